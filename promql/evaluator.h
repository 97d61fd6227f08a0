// The PromQL evaluator: one instance per query execution (internal to kiln_promql).
//
// Evaluation is step-aligned as in Prometheus: every instant-vector or scalar expression
// evaluates to a Matrix with one point per output step in [start, end] (an instant query is
// the range start == end, interval 1). Each node kind has its own file (eval_*.cc). Errors
// inside evaluation are thrown as EvalError and turned into a Status by Engine::Exec — the
// one sanctioned use of exceptions (STYLE.md §5). Not thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pkg/model/value.h"
#include "pkg/storage/querier.h"
#include "pkg/util/status.h"
#include "promql/annotations.h"
#include "promql/parser/ast.h"
#include "promql/value.h"

namespace kiln::promql {

struct EvalError {
  Status status;
};

[[noreturn]] void ThrowExecution(std::string msg);

// A series of raw samples read from storage or produced by a subquery, sorted by time.
struct RawSeries {
  model::Labels metric;
  std::vector<FPoint> floats;
  bool drop_name = false;
};

// Settings shared by an evaluator and the evaluators of its subqueries.
struct EvalSettings {
  storage::Queryable* queryable = nullptr;
  int64_t lookback_delta = 5 * 60 * 1000;
  int64_t max_samples = 50000000;
  int64_t no_step_subquery_interval = 60 * 1000;
  bool delayed_name_removal = false;
  // The query's own range (ms), for start(), end(), range() and step(); step 0 when instant.
  int64_t query_start = 0;
  int64_t query_end = 0;
  int64_t query_step = 0;
  std::chrono::steady_clock::time_point deadline;
  const std::atomic<bool>* cancel = nullptr;
};

// Everything one call of a function implementation sees at one step.
struct FunctionCall {
  const parser::Call* call = nullptr;
  int64_t ts = 0;                   // the step's timestamp
  std::vector<const Vector*> args;  // per argument; scalar args hold one sample, strings none
  // For functions over a range vector: the points of one series in the window
  // (range_start, range_end] and the window itself.
  const RawSeries* series = nullptr;
  const std::vector<FPoint>* points = nullptr;
  int64_t range_start = 0;
  int64_t range_end = 0;
  int64_t range = 0;
  // Extended range selectors ("promql-extended-range-selectors"): `points` then also holds
  // the samples within one lookback delta outside the window (before it; for smoothed also
  // after it), from which the window's edge values are taken or interpolated.
  bool anchored = false;
  bool smoothed = false;
  class Evaluator* ev = nullptr;
  Vector* out = nullptr;

  double Scalar(size_t i) const { return (*args[i])[0].f; }
  const parser::StringLiteral& StringArg(size_t i) const;
};

using FunctionImpl = std::function<void(FunctionCall&)>;

struct FunctionInfo {
  FunctionImpl impl;
  bool keeps_name = false;  // false: the result drops __name__ (delayed when enabled)
};

// The implementation registered for `name`, or null.
const FunctionInfo* LookupFunctionImpl(std::string_view name);

class Evaluator {
 public:
  Evaluator(const EvalSettings& settings, int64_t start, int64_t end, int64_t interval)
      : settings_(settings), start_(start), end_(end), interval_(interval) {}

  // Evaluates `e`: a Matrix of step-aligned points for vector and scalar expressions, raw
  // samples for range-vector expressions (only at the top of an instant query), or a String.
  Value Eval(const parser::Expr& e);
  Matrix EvalMatrix(const parser::Expr& e);

  // Runs `fn` at every step over the step-aligned values of `args` (null args, and string
  // args, yield empty vectors), collecting the output samples into series by labels.
  using StepFn =
      std::function<void(const std::vector<const Vector*>& args, int64_t ts, Vector* out)>;
  Matrix RangeEval(const std::vector<const parser::Expr*>& args, const StepFn& fn);
  // The same over already evaluated matrices.
  Matrix RangeEvalMatrices(const std::vector<const Matrix*>& mats, const StepFn& fn);

  Annotations& annotations() { return annotations_; }
  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t interval() const { return interval_; }
  const EvalSettings& settings() const { return settings_; }
  bool delayed_name_removal() const { return settings_.delayed_name_removal; }
  int64_t NumSteps() const { return (end_ - start_) / interval_ + 1; }

  // Throws kCanceled / kTimeout when the query should stop.
  void CheckInterrupt() const;
  // Accounts `n` more samples held in memory; throws when over the limit.
  void AddSamples(int64_t n);
  void ReleaseSamples(int64_t n) { cur_samples_ -= n; }
  int64_t cur_samples() const { return cur_samples_; }
  void set_cur_samples(int64_t n) { cur_samples_ = n; }

  // Storage access: the series matching `vs`, with raw samples in [mint, maxt]. Callers
  // account for the samples they keep (AddSamples), as Prometheus counts loaded points.
  std::vector<RawSeries> SelectSeries(const parser::VectorSelector& vs, int64_t mint, int64_t maxt);

  // Node evaluators, one file each.
  // With `sample_times`, values are the selected samples' timestamps in seconds (timestamp()).
  Matrix EvalVectorSelector(const parser::VectorSelector& vs, bool sample_times = false);
  Matrix EvalMatrixSelectorRaw(const parser::MatrixSelector& ms);
  Matrix EvalBinary(const parser::BinaryExpr& e);
  Matrix EvalAggregate(const parser::AggregateExpr& e);
  Matrix EvalCall(const parser::Call& e);
  Matrix EvalUnary(const parser::UnaryExpr& e);
  Matrix EvalNumber(double v);
  Matrix EvalStepInvariant(const parser::StepInvariantExpr& e);
  // The raw series of a subquery, as a range-vector argument (timestamps are the inner
  // steps). `ref_end` is the outer end time before offset; see eval_subquery.cc.
  std::vector<RawSeries> EvalSubqueryRaw(const parser::SubqueryExpr& sq);
  Matrix EvalSubqueryTop(const parser::SubqueryExpr& sq);

 private:
  Matrix EvalRangeFunction(const parser::Call& e, size_t matrix_arg);
  Matrix EvalAbsent(const parser::Call& e);
  Matrix EvalInfo(const parser::Call& e);  // eval_info.cc
  Matrix EvalLabelFunction(const parser::Call& e);

  EvalSettings settings_;
  int64_t start_;
  int64_t end_;
  int64_t interval_;
  int64_t cur_samples_ = 0;
  Annotations annotations_;
  // Queriers stay alive until the evaluator dies, since series may point into them.
  std::vector<std::unique_ptr<storage::Querier>> queriers_;
};

// Helpers shared by the node evaluators.
// What "dropping the metric name" removes: __name__ and the metadata labels that describe
// the metric (__type__, __unit__), which no longer apply to a computed value.
inline const std::vector<std::string> kNameAndMetadataLabels = {"__name__", "__type__", "__unit__"};
// Removes __name__ from a sample's labels now, or marks it for removal at the end.
void DropMetricName(Sample* s, bool delayed);
// Unwraps parentheses and step-invariant markers.
const parser::Expr& Unwrap(const parser::Expr& e);
// The points of `floats` with timestamps in (mint, maxt].
void PointsInWindow(const std::vector<FPoint>& floats, int64_t mint, int64_t maxt,
                    std::vector<FPoint>* out);
// The points of an anchored/smoothed window (mint, maxt]: the samples inside it plus a point
// exactly at each edge, valued by the nearest sample at or before it (anchored) or by linear
// interpolation (smoothed). `floats` are the samples with a lookback delta of margin.
std::vector<FPoint> ExtendFloats(const std::vector<FPoint>& floats, int64_t mint, int64_t maxt,
                                 bool smoothed);
// Edge values of an extended window, shared with the rate functions. `is_counter` treats a
// decrease between the two interpolated samples as a counter reset.
double EdgeValueLeft(const std::vector<FPoint>& f, size_t first, int64_t t, bool smoothed,
                     bool is_counter);
double EdgeValueRight(const std::vector<FPoint>& f, size_t last, int64_t t, bool smoothed,
                      bool is_counter);
// Go's sort.Search: the smallest i in [0, n) with pred(i), or n.
template <typename Pred>
size_t SearchIndex(size_t n, Pred pred) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (!pred(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// The labels absent()/absent_over_time() give their result: the equality matchers of the
// selector argument, except __name__ and names matched more than once.
model::Labels AbsentLabels(const parser::Expr& arg);

// Whether a Vector has two samples with equal labels.
bool HasDuplicateLabelset(const Vector& v);

}  // namespace kiln::promql
