#include "promql/evaluator.h"
#include "promql/parser/functions.h"

#include <algorithm>
#include <unordered_map>

namespace kiln::promql {

void ThrowExecution(std::string msg) { throw EvalError{Status::Execution(msg)}; }

const parser::StringLiteral& FunctionCall::StringArg(size_t i) const {
  return Unwrap(*call->args[i]).As<parser::StringLiteral>();
}

void DropMetricName(Sample* s, bool delayed) {
  if (delayed) {
    s->drop_name = true;
  } else {
    s->metric = s->metric.Without(kNameAndMetadataLabels);
  }
}

const parser::Expr& Unwrap(const parser::Expr& e) {
  const parser::Expr* p = &e;
  while (true) {
    if (p->kind() == parser::Kind::kParen) {
      p = p->As<parser::ParenExpr>().expr.get();
    } else if (p->kind() == parser::Kind::kStepInvariant) {
      p = p->As<parser::StepInvariantExpr>().expr.get();
    } else {
      return *p;
    }
  }
}

void PointsInWindow(const std::vector<FPoint>& floats, int64_t mint, int64_t maxt,
                    std::vector<FPoint>* out) {
  out->clear();
  auto lo = std::upper_bound(floats.begin(), floats.end(), mint,
                             [](int64_t t, const FPoint& p) { return t < p.t; });
  for (auto it = lo; it != floats.end() && it->t <= maxt; ++it) out->push_back(*it);
}

namespace {

double Interpolate(const FPoint& p1, const FPoint& p2, int64_t t, bool is_counter) {
  double y1 = p1.f, y2 = p2.f;
  // A decrease of a counter is a reset: the counter restarted from zero after p1.
  if (is_counter && y2 < y1) y1 = 0;
  return y1 + (y2 - y1) * static_cast<double>(t - p1.t) / static_cast<double>(p2.t - p1.t);
}

}  // namespace

double EdgeValueLeft(const std::vector<FPoint>& f, size_t first, int64_t t, bool smoothed,
                     bool is_counter) {
  if (smoothed && f[first].t < t && first + 1 < f.size()) {
    return Interpolate(f[first], f[first + 1], t, is_counter);
  }
  return f[first].f;
}

double EdgeValueRight(const std::vector<FPoint>& f, size_t last, int64_t t, bool smoothed,
                      bool is_counter) {
  if (smoothed && last > 0 && f[last].t > t) {
    return Interpolate(f[last - 1], f[last], t, is_counter);
  }
  return f[last].f;
}

std::vector<FPoint> ExtendFloats(const std::vector<FPoint>& f, int64_t mint, int64_t maxt,
                                 bool smoothed) {
  if (f.empty()) return {};
  size_t last = f.size() - 1;
  size_t first = SearchIndex(last, [&](size_t i) { return f[i].t > mint; });
  first = first > 0 ? first - 1 : 0;
  if (smoothed) last = SearchIndex(last, [&](size_t i) { return f[i].t >= maxt; });
  if (f[last].t <= mint) return {};
  double left = EdgeValueLeft(f, first, mint, smoothed, false);
  double right = EdgeValueRight(f, last, maxt, smoothed, false);
  size_t lo = f[first].t <= mint ? first + 1 : first;
  ptrdiff_t hi =
      f[last].t >= maxt ? static_cast<ptrdiff_t>(last) - 1 : static_cast<ptrdiff_t>(last);
  std::vector<FPoint> out;
  out.push_back({mint, left});
  for (ptrdiff_t i = static_cast<ptrdiff_t>(lo); i <= hi; ++i)
    out.push_back(f[static_cast<size_t>(i)]);
  out.push_back({maxt, right});
  return out;
}

bool HasDuplicateLabelset(const Vector& v) {
  if (v.size() < 2) return false;
  std::unordered_map<uint64_t, std::vector<const model::Labels*>> seen;
  for (const Sample& s : v) {
    auto& bucket = seen[s.metric.Hash()];
    for (const model::Labels* l : bucket) {
      if (*l == s.metric) return true;
    }
    bucket.push_back(&s.metric);
  }
  return false;
}

void Evaluator::CheckInterrupt() const {
  if (settings_.cancel != nullptr && settings_.cancel->load(std::memory_order_relaxed)) {
    throw EvalError{Status::Canceled("query was canceled in query execution")};
  }
  if (std::chrono::steady_clock::now() > settings_.deadline) {
    throw EvalError{Status::Timeout("query timed out in query execution")};
  }
}

void Evaluator::AddSamples(int64_t n) {
  cur_samples_ += n;
  if (cur_samples_ > settings_.max_samples) {
    throw EvalError{Status::LimitExceeded(
        "query processing would load too many samples into memory in query execution")};
  }
}

Value Evaluator::Eval(const parser::Expr& e) {
  CheckInterrupt();
  switch (e.kind()) {
    case parser::Kind::kStringLiteral:
      return String{start_, e.As<parser::StringLiteral>().val};
    case parser::Kind::kParen:
      return Eval(*e.As<parser::ParenExpr>().expr);
    case parser::Kind::kMatrixSelector:
      return EvalMatrixSelectorRaw(e.As<parser::MatrixSelector>());
    case parser::Kind::kSubquery:
      return EvalSubqueryTop(e.As<parser::SubqueryExpr>());
    case parser::Kind::kStepInvariant: {
      const parser::Expr& inner = *e.As<parser::StepInvariantExpr>().expr;
      if (inner.Type() == parser::ValueType::kString || inner.Type() == parser::ValueType::kMatrix)
        return Eval(inner);
      return EvalStepInvariant(e.As<parser::StepInvariantExpr>());
    }
    default:
      return EvalMatrix(e);
  }
}

Matrix Evaluator::EvalMatrix(const parser::Expr& e) {
  CheckInterrupt();
  switch (e.kind()) {
    case parser::Kind::kNumberLiteral:
      return EvalNumber(e.As<parser::NumberLiteral>().val);
    case parser::Kind::kDuration:
      ThrowExecution("unexpected duration expression in evaluation");
    case parser::Kind::kParen:
      return EvalMatrix(*e.As<parser::ParenExpr>().expr);
    case parser::Kind::kVectorSelector:
      return EvalVectorSelector(e.As<parser::VectorSelector>());
    case parser::Kind::kBinary:
      return EvalBinary(e.As<parser::BinaryExpr>());
    case parser::Kind::kAggregate:
      return EvalAggregate(e.As<parser::AggregateExpr>());
    case parser::Kind::kCall:
      return EvalCall(e.As<parser::Call>());
    case parser::Kind::kUnary:
      return EvalUnary(e.As<parser::UnaryExpr>());
    case parser::Kind::kStepInvariant:
      return EvalStepInvariant(e.As<parser::StepInvariantExpr>());
    case parser::Kind::kMatrixSelector:
    case parser::Kind::kSubquery:
    case parser::Kind::kStringLiteral:
      break;
  }
  ThrowExecution("unexpected expression type in step evaluation");
}

Matrix Evaluator::EvalNumber(double v) {
  Series s;
  for (int64_t ts = start_; ts <= end_; ts += interval_) s.floats.push_back({ts, v});
  AddSamples(static_cast<int64_t>(s.floats.size()));
  return Matrix{std::move(s)};
}

Matrix Evaluator::EvalUnary(const parser::UnaryExpr& e) {
  Matrix m = EvalMatrix(*e.expr);
  if (e.op != parser::BinaryOp::kSub) return m;
  for (Series& s : m) {
    for (FPoint& p : s.floats) p.f = -p.f;
    if (e.expr->Type() == parser::ValueType::kVector) {
      if (delayed_name_removal()) {
        s.drop_name = true;
      } else {
        s.metric = s.metric.Without(kNameAndMetadataLabels);
      }
    }
  }
  return m;
}

namespace {

// timestamp() reports each step's time for computed vectors, so a subtree containing it is
// not step invariant even under `@` (upstream lists it among the @-unsafe functions).
bool ContainsTimestampCall(const parser::Expr& e) {
  bool found = false;
  parser::Inspect(e, [&](const parser::Expr& n, const std::vector<const parser::Expr*>&) {
    if (n.kind() == parser::Kind::kCall && n.As<parser::Call>().func->name == "timestamp") {
      found = true;
    }
  });
  return found;
}

}  // namespace

Matrix Evaluator::EvalStepInvariant(const parser::StepInvariantExpr& e) {
  if (ContainsTimestampCall(*e.expr)) return EvalMatrix(*e.expr);
  Evaluator once(settings_, start_, start_, interval_);
  once.cur_samples_ = cur_samples_;
  Matrix m = once.EvalMatrix(*e.expr);
  annotations_.Merge(once.annotations_);
  if (start_ == end_) {
    cur_samples_ = once.cur_samples_;
    return m;
  }
  for (Series& s : m) {
    if (s.floats.empty()) continue;
    double v = s.floats[0].f;
    s.floats.clear();
    for (int64_t ts = start_; ts <= end_; ts += interval_) s.floats.push_back({ts, v});
    AddSamples(static_cast<int64_t>(s.floats.size()));
  }
  return m;
}

Matrix Evaluator::RangeEval(const std::vector<const parser::Expr*>& args, const StepFn& fn) {
  std::vector<Matrix> mats(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != nullptr && args[i]->Type() != parser::ValueType::kString) {
      mats[i] = EvalMatrix(*args[i]);
    }
  }
  std::vector<const Matrix*> ptrs;
  for (const Matrix& m : mats) ptrs.push_back(&m);
  int64_t before = cur_samples_;
  Matrix out = RangeEvalMatrices(ptrs, fn);
  // The inputs are released now; only the output stays in memory (as upstream counts).
  int64_t held = 0;
  for (const Matrix& m : mats) {
    for (const Series& s : m) held += static_cast<int64_t>(s.floats.size());
  }
  int64_t produced = 0;
  for (const Series& s : out) produced += static_cast<int64_t>(s.floats.size());
  cur_samples_ = std::max<int64_t>(0, before - held) + produced;
  return out;
}

Matrix Evaluator::RangeEvalMatrices(const std::vector<const Matrix*>& mats, const StepFn& fn) {
  std::vector<Vector> vecs(mats.size());
  std::vector<std::vector<size_t>> cursors(mats.size());
  for (size_t i = 0; i < mats.size(); ++i) cursors[i].assign(mats[i]->size(), 0);
  std::vector<const Vector*> arg_ptrs;
  for (const Vector& v : vecs) arg_ptrs.push_back(&v);

  struct OutSeries {
    Series series;
    int64_t last_ts;
  };
  std::unordered_map<uint64_t, std::vector<size_t>> index;  // label hash → positions in out
  std::vector<OutSeries> out;
  Vector result;
  for (int64_t ts = start_; ts <= end_; ts += interval_) {
    CheckInterrupt();
    for (size_t i = 0; i < mats.size(); ++i) {
      vecs[i].clear();
      const Matrix& m = *mats[i];
      for (size_t k = 0; k < m.size(); ++k) {
        size_t& c = cursors[i][k];
        const auto& fl = m[k].floats;
        while (c < fl.size() && fl[c].t < ts) ++c;
        if (c < fl.size() && fl[c].t == ts) {
          vecs[i].push_back(Sample{m[k].metric, ts, fl[c].f, nullptr, m[k].drop_name});
        }
      }
    }
    result.clear();
    fn(arg_ptrs, ts, &result);
    if (start_ == end_) {
      if (!delayed_name_removal() && HasDuplicateLabelset(result)) {
        ThrowExecution("vector cannot contain metrics with the same labelset");
      }
      Matrix m;
      for (Sample& s : result) {
        m.push_back(Series{std::move(s.metric), {{ts, s.f}}, {}, s.drop_name});
      }
      AddSamples(static_cast<int64_t>(m.size()));
      return m;
    }
    for (Sample& s : result) {
      auto& bucket = index[s.metric.Hash()];
      OutSeries* target = nullptr;
      for (size_t pos : bucket) {
        if (out[pos].series.metric == s.metric) target = &out[pos];
      }
      if (target == nullptr) {
        bucket.push_back(out.size());
        out.push_back(OutSeries{Series{s.metric, {}, {}, s.drop_name}, ts - 1});
        target = &out.back();
      } else if (target->last_ts == ts) {
        ThrowExecution("vector cannot contain metrics with the same labelset");
      }
      target->last_ts = ts;
      target->series.drop_name = target->series.drop_name || s.drop_name;
      target->series.floats.push_back({ts, s.f});
    }
    AddSamples(static_cast<int64_t>(result.size()));
  }
  Matrix m;
  m.reserve(out.size());
  for (OutSeries& o : out) m.push_back(std::move(o.series));
  return m;
}

}  // namespace kiln::promql
