// Function calls: functions over instant vectors and scalars run step by step through
// RangeEval; functions over a range vector run series by series over sliding windows.
#include <algorithm>

#include "promql/evaluator.h"
#include "promql/parser/functions.h"

namespace kiln::promql {

namespace {

// The labels absent()/absent_over_time() give their result: the equality matchers of the
// selector, except __name__ and names matched more than once.
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

// The window a range argument covers at step `ts`.
struct RangeArg {
  int64_t range = 0;
  int64_t offset = 0;
  std::optional<int64_t> at;
  int64_t before = 0;  // extra margin selected before the window (anchored/smoothed)
  int64_t after = 0;   // and after it (smoothed)
  int64_t Ref(int64_t ts) const { return (at ? *at : ts) - offset; }
};

}  // namespace

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

Matrix Evaluator::EvalRangeFunction(const parser::Call& e, size_t mi) {
  std::string_view name = e.func->name;
  const parser::Expr& marg = Unwrap(*e.args[mi]);
  RangeArg ra;
  FunctionCall fc_flags;
  std::vector<RawSeries> series;
  if (marg.kind() == parser::Kind::kMatrixSelector) {
    const auto& ms = marg.As<parser::MatrixSelector>();
    ra = RangeArg{ms.range, ms.vs().original_offset, ms.vs().timestamp};
    if (ms.vs().anchored || ms.vs().smoothed) ra.before = settings_.lookback_delta;
    if (ms.vs().smoothed) ra.after = settings_.lookback_delta;
    int64_t lo = std::min(ra.Ref(start_), ra.Ref(end_)),
            hi = std::max(ra.Ref(start_), ra.Ref(end_));
    series = SelectSeries(ms.vs(), lo - ra.range - ra.before + 1, hi + ra.after);
    fc_flags.anchored = ms.vs().anchored;
    fc_flags.smoothed = ms.vs().smoothed;
  } else {
    const auto& sq = marg.As<parser::SubqueryExpr>();
    ra = RangeArg{sq.range, sq.original_offset, sq.timestamp};
    series = EvalSubqueryRaw(sq);
  }
  // Scalar arguments, evaluated step-aligned.
  std::vector<Matrix> other(e.args.size());
  std::vector<Vector> other_vec(e.args.size());
  for (size_t i = 0; i < e.args.size(); ++i) {
    if (i == mi || e.args[i]->Type() == parser::ValueType::kString) continue;
    other[i] = EvalMatrix(*e.args[i]);
    other_vec[i].push_back(Sample{});
  }
  const FunctionInfo* info = LookupFunctionImpl(name);
  if (info == nullptr) ThrowExecution("function \"" + std::string(name) + "\" is not supported");
  // anchored/smoothed windows are only defined for some functions; upstream reports this
  // as an evaluation error.
  if (Status st = parser::CheckExtendedRangeModifiers(e); !st.ok()) ThrowExecution(st.message());
  bool counter_check = name == "rate" || name == "increase";
  FunctionCall fc;
  fc.call = &e;
  fc.ev = this;
  fc.range = ra.range;
  fc.anchored = fc_flags.anchored;
  fc.smoothed = fc_flags.smoothed;
  bool extended = fc.anchored || fc.smoothed;
  // rate, increase and delta read the edges themselves; the others see the extended window.
  bool raw_extended = extended && (name == "rate" || name == "increase" || name == "delta");
  for (const Vector& v : other_vec) fc.args.push_back(&v);
  Matrix out;
  std::vector<FPoint> window;
  Vector step_out;
  bool absent_over_time = name == "absent_over_time";
  std::vector<bool> any_at_step(static_cast<size_t>(NumSteps()), false);
  for (const RawSeries& rs : series) {
    CheckInterrupt();
    Series os;
    os.metric = rs.metric;
    os.drop_name = rs.drop_name;
    if (!info->keeps_name) {
      if (delayed_name_removal()) {
        os.drop_name = true;
      } else {
        os.metric = os.metric.Without(kNameAndMetadataLabels);
      }
    }
    if (counter_check) {
      std::string_view metric = rs.metric.MetricName();
      auto ends = [&](std::string_view suf) {
        return metric.size() >= suf.size() && metric.substr(metric.size() - suf.size()) == suf;
      };
      if (!metric.empty() && !rs.floats.empty() && !ends("_total") && !ends("_sum") &&
          !ends("_count") && !ends("_bucket")) {
        annotations_.PossibleNonCounter(metric, e.args[mi]->PositionRange().start);
      }
    }
    int64_t step = 0;
    for (int64_t ts = start_; ts <= end_; ts += interval_, ++step) {
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (!other[i].empty()) other_vec[i][0].f = other[i][0].floats[static_cast<size_t>(step)].f;
      }
      int64_t ref = ra.Ref(ts);
      PointsInWindow(rs.floats, ref - ra.range - ra.before, ref + ra.after, &window);
      std::erase_if(window, [](const FPoint& p) { return model::IsStaleNaN(p.f); });
      if (extended && !raw_extended)
        window = ExtendFloats(window, ref - ra.range, ref, fc.smoothed);
      if (window.empty()) continue;
      any_at_step[static_cast<size_t>(step)] = true;
      if (absent_over_time) continue;
      step_out.clear();
      fc.ts = ts;
      fc.series = &rs;
      fc.points = &window;
      fc.range_start = ref - ra.range;
      fc.range_end = ref;
      fc.out = &step_out;
      info->impl(fc);
      if (!step_out.empty()) os.floats.push_back({ts, step_out[0].f});
    }
    if (!os.floats.empty()) {
      AddSamples(static_cast<int64_t>(os.floats.size()));
      out.push_back(std::move(os));
    }
  }
  if (absent_over_time) {
    Series s;
    s.metric = AbsentLabels(*e.args[mi]);
    int64_t step = 0;
    for (int64_t ts = start_; ts <= end_; ts += interval_, ++step) {
      if (!any_at_step[static_cast<size_t>(step)]) s.floats.push_back({ts, 1});
    }
    out.clear();
    if (!s.floats.empty()) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace kiln::promql
