// Functions over a range vector (rate, *_over_time, …): evaluated series by series, sliding
// the window (ref - range, ref] along the steps, where ref honours `@` and offset.
#include <algorithm>

#include "promql/evaluator.h"
#include "promql/parser/functions.h"

namespace kiln::promql {

namespace {

bool HasCounterSuffix(std::string_view name) {
  for (std::string_view suf : {"_total", "_sum", "_count", "_bucket"}) {
    if (name.size() >= suf.size() && name.substr(name.size() - suf.size()) == suf) return true;
  }
  return false;
}

// One evaluation of a range-vector function call. Not thread-safe.
class RangeFunctionEval {
 public:
  RangeFunctionEval(Evaluator* ev, const parser::Call& e, size_t mi)
      : ev_(ev), e_(e), mi_(mi), name_(e.func->name) {}

  Matrix Run();

 private:
  int64_t Ref(int64_t ts) const { return (at_ ? *at_ : ts) - offset_; }
  void LoadSeries();
  void EvalScalarArgs();
  Series OutputSeriesFor(const RawSeries& rs);
  void EvalSeries(const RawSeries& rs, Matrix* out);
  Matrix AbsentResult() const;

  Evaluator* ev_;
  const parser::Call& e_;
  size_t mi_;  // index of the range-vector argument
  std::string_view name_;
  const FunctionInfo* info_ = nullptr;
  int64_t range_ = 0;
  int64_t offset_ = 0;
  std::optional<int64_t> at_;
  int64_t before_ = 0;  // margin read before the window (anchored, smoothed)
  int64_t after_ = 0;   // and after it (smoothed)
  bool anchored_ = false;
  bool smoothed_ = false;
  std::vector<RawSeries> series_;
  std::vector<Matrix> scalar_args_;  // step-aligned, by argument index
  std::vector<Vector> scalar_now_;   // the current step's values
  std::vector<bool> any_at_step_;    // for absent_over_time
};

void RangeFunctionEval::LoadSeries() {
  const parser::Expr& arg = Unwrap(*e_.args[mi_]);
  if (arg.kind() == parser::Kind::kSubquery) {
    const auto& sq = arg.As<parser::SubqueryExpr>();
    range_ = sq.range;
    offset_ = sq.original_offset;
    at_ = sq.timestamp;
    series_ = ev_->EvalSubqueryRaw(sq);
    return;
  }
  const auto& ms = arg.As<parser::MatrixSelector>();
  range_ = ms.range;
  offset_ = ms.vs().original_offset;
  at_ = ms.vs().timestamp;
  anchored_ = ms.vs().anchored;
  smoothed_ = ms.vs().smoothed;
  if (anchored_ || smoothed_) before_ = ev_->settings().lookback_delta;
  if (smoothed_) after_ = ev_->settings().lookback_delta;
  int64_t first = Ref(ev_->start()), last = Ref(ev_->end());
  series_ = ev_->SelectSeries(ms.vs(), std::min(first, last) - range_ - before_ + 1,
                              std::max(first, last) + after_);
}

void RangeFunctionEval::EvalScalarArgs() {
  scalar_args_.resize(e_.args.size());
  scalar_now_.resize(e_.args.size());
  for (size_t i = 0; i < e_.args.size(); ++i) {
    if (i == mi_ || e_.args[i]->Type() == parser::ValueType::kString) continue;
    scalar_args_[i] = ev_->EvalMatrix(*e_.args[i]);
    scalar_now_[i].push_back(Sample{});
  }
}

Series RangeFunctionEval::OutputSeriesFor(const RawSeries& rs) {
  Series os;
  os.metric = rs.metric;
  os.drop_name = rs.drop_name;
  if (!info_->keeps_name) {
    if (ev_->delayed_name_removal()) {
      os.drop_name = true;
    } else {
      os.metric = os.metric.Without(kNameAndMetadataLabels);
    }
  }
  std::string_view metric = rs.metric.MetricName();
  if ((name_ == "rate" || name_ == "increase") && !metric.empty() && !rs.floats.empty() &&
      !HasCounterSuffix(metric)) {
    ev_->annotations().PossibleNonCounter(metric, e_.args[mi_]->PositionRange().start);
  }
  return os;
}

void RangeFunctionEval::EvalSeries(const RawSeries& rs, Matrix* out) {
  Series os = OutputSeriesFor(rs);
  bool extended = anchored_ || smoothed_;
  // rate, increase and delta read the window edges themselves; others get edge points.
  bool raw_extended = extended && (name_ == "rate" || name_ == "increase" || name_ == "delta");
  FunctionCall fc;
  fc.call = &e_;
  fc.ev = ev_;
  fc.range = range_;
  fc.anchored = anchored_;
  fc.smoothed = smoothed_;
  fc.series = &rs;
  for (const Vector& v : scalar_now_) fc.args.push_back(&v);
  std::vector<FPoint> window;
  Vector step_out;
  // The window (ref - range - before, ref + after] slides forward with the steps (ref never
  // decreases), so two cursors find its points without a search per step.
  const std::vector<FPoint>& f = rs.floats;
  size_t lo = 0, hi = 0;
  if (!f.empty() && !at_) {
    // At most one output point per step whose window can hold a sample: no regrowth.
    const int64_t first = std::max(ev_->start(), f.front().t - after_ + offset_);
    const int64_t last = std::min(ev_->end(), f.back().t + range_ + before_ + offset_);
    if (last >= first) os.floats.reserve(static_cast<size_t>((last - first) / ev_->interval() + 2));
  }
  size_t step = 0;
  for (int64_t ts = ev_->start(); ts <= ev_->end(); ts += ev_->interval(), ++step) {
    for (size_t i = 0; i < scalar_args_.size(); ++i) {
      if (!scalar_args_[i].empty()) scalar_now_[i][0].f = scalar_args_[i][0].floats[step].f;
    }
    int64_t ref = Ref(ts);
    const int64_t mint = ref - range_ - before_, maxt = ref + after_;
    while (lo < f.size() && f[lo].t <= mint) ++lo;
    hi = std::max(hi, lo);
    while (hi < f.size() && f[hi].t <= maxt) ++hi;
    window.resize(hi - lo);
    size_t n = 0;
    for (size_t k = lo; k < hi; ++k) {
      if (!model::IsStaleNaN(f[k].f)) window[n++] = f[k];
    }
    window.resize(n);
    if (extended && !raw_extended) window = ExtendFloats(window, ref - range_, ref, smoothed_);
    if (window.empty()) continue;
    // The window's points are what this step holds in memory.
    ev_->AddSamples(static_cast<int64_t>(window.size()));
    ev_->ReleaseSamples(static_cast<int64_t>(window.size()));
    any_at_step_[step] = true;
    step_out.clear();
    fc.ts = ts;
    fc.points = &window;
    fc.range_start = ref - range_;
    fc.range_end = ref;
    fc.out = &step_out;
    info_->impl(fc);
    if (!step_out.empty()) os.floats.push_back({ts, step_out[0].f});
  }
  if (os.floats.empty()) return;
  ev_->AddSamples(static_cast<int64_t>(os.floats.size()));
  out->push_back(std::move(os));
}

// absent_over_time: 1 at the steps where no series had a sample in its window.
Matrix RangeFunctionEval::AbsentResult() const {
  Series s;
  s.metric = AbsentLabels(*e_.args[mi_]);
  size_t step = 0;
  for (int64_t ts = ev_->start(); ts <= ev_->end(); ts += ev_->interval(), ++step) {
    if (!any_at_step_[step]) s.floats.push_back({ts, 1});
  }
  if (s.floats.empty()) return {};
  return Matrix{std::move(s)};
}

Matrix RangeFunctionEval::Run() {
  info_ = LookupFunctionImpl(name_);
  if (info_ == nullptr) ThrowExecution("function \"" + std::string(name_) + "\" is not supported");
  // Upstream reports misplaced anchored/smoothed modifiers when evaluating.
  if (Status st = parser::CheckExtendedRangeModifiers(e_); !st.ok()) {
    ThrowExecution(st.message());
  }
  LoadSeries();
  EvalScalarArgs();
  any_at_step_.assign(static_cast<size_t>(ev_->NumSteps()), false);
  Matrix out;
  for (const RawSeries& rs : series_) {
    ev_->CheckInterrupt();
    EvalSeries(rs, &out);
  }
  if (name_ == "absent_over_time") return AbsentResult();
  return out;
}

}  // namespace

Matrix Evaluator::EvalRangeFunction(const parser::Call& e, size_t matrix_arg) {
  return RangeFunctionEval(this, e, matrix_arg).Run();
}

}  // namespace kiln::promql
