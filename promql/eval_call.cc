// Function calls: functions over instant vectors and scalars run step by step through
// RangeEval; functions over a range vector run series by series over sliding windows.
#include <algorithm>

#include "promql/evaluator.h"
#include "promql/parser/functions.h"

namespace kiln::promql {

model::Labels AbsentLabels(const parser::Expr& arg) {
  const parser::Expr& e = Unwrap(arg);
  const parser::VectorSelector* vs = nullptr;
  if (e.kind() == parser::Kind::kVectorSelector) vs = &e.As<parser::VectorSelector>();
  if (e.kind() == parser::Kind::kMatrixSelector) vs = &e.As<parser::MatrixSelector>().vs();
  model::LabelsBuilder b;
  if (vs == nullptr) return b.Build();
  std::vector<std::string> seen;
  for (const model::Matcher& m : vs->matchers) {
    if (m.name() == model::kMetricName) continue;
    bool has = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
    if (m.type() == model::MatchType::kEqual && !has) {
      b.Set(m.name(), m.value());
    } else {
      b.Del(m.name());
    }
    seen.push_back(m.name());
  }
  return b.Build();
}

Matrix Evaluator::EvalCall(const parser::Call& e) {
  std::string_view name = e.func->name;
  for (size_t i = 0; i < e.args.size(); ++i) {
    if (e.args[i]->Type() == parser::ValueType::kMatrix) return EvalRangeFunction(e, i);
  }
  if (name == "absent") return EvalAbsent(e);
  if (name == "info") return EvalInfo(e);
  if (name == "timestamp" && Unwrap(*e.args[0]).kind() == parser::Kind::kVectorSelector) {
    Matrix m = EvalVectorSelector(Unwrap(*e.args[0]).As<parser::VectorSelector>(), true);
    for (Series& s : m) {
      if (delayed_name_removal()) {
        s.drop_name = true;
      } else {
        s.metric = s.metric.Without(kNameAndMetadataLabels);
      }
    }
    return m;
  }
  if (name == "label_replace" || name == "label_join") return EvalLabelFunction(e);
  const FunctionInfo* info = LookupFunctionImpl(name);
  if (info == nullptr) ThrowExecution("function \"" + std::string(name) + "\" is not supported");
  std::vector<const parser::Expr*> args;
  for (const auto& a : e.args) args.push_back(a.get());
  if (name == "sort" || name == "sort_desc" || name == "sort_by_label" ||
      name == "sort_by_label_desc") {
    if (start_ != end_) annotations_.SortIneffectiveInRangeQuery(e.pos.start);
  }
  FunctionCall fc;
  fc.call = &e;
  fc.ev = this;
  return RangeEval(args, [&](const std::vector<const Vector*>& a, int64_t ts, Vector* out) {
    fc.ts = ts;
    fc.args = a;
    fc.out = out;
    info->impl(fc);
    if (!info->keeps_name) {
      for (Sample& s : *out) DropMetricName(&s, delayed_name_removal());
    }
  });
}

Matrix Evaluator::EvalAbsent(const parser::Call& e) {
  model::Labels ls = AbsentLabels(*e.args[0]);
  return RangeEval({e.args[0].get()}, [&](const auto& a, int64_t ts, Vector* out) {
    if (a[0]->empty()) out->push_back(Sample{ls, ts, 1});
  });
}

}  // namespace kiln::promql
