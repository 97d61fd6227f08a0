// Subqueries: `expr[range:step]` evaluates `expr` on its own step grid, aligned to
// multiples of the step (not to the outer query's steps).
#include <algorithm>

#include "promql/evaluator.h"

namespace kiln::promql {

std::vector<RawSeries> Evaluator::EvalSubqueryRaw(const parser::SubqueryExpr& sq) {
  int64_t first = (sq.timestamp ? *sq.timestamp : start_) - sq.original_offset;
  int64_t last = (sq.timestamp ? *sq.timestamp : end_) - sq.original_offset;
  int64_t step = sq.step != 0 ? sq.step : settings_.no_step_subquery_interval;
  if (step <= 0) ThrowExecution("subquery step must be positive");
  // The first inner step is the first multiple of `step` after the window start. C++
  // division truncates toward zero like Go's, which the alignment relies on.
  int64_t lo = first - sq.range;
  int64_t inner_start = step * (lo / step);
  if (inner_start <= lo) inner_start += step;
  std::vector<RawSeries> out;
  if (inner_start > last) return out;
  Evaluator inner(settings_, inner_start, last, step);
  inner.cur_samples_ = cur_samples_;
  Matrix m = inner.EvalMatrix(*sq.expr);
  cur_samples_ = inner.cur_samples_;
  annotations_.Merge(inner.annotations_);
  out.reserve(m.size());
  for (Series& s : m) {
    out.push_back(RawSeries{std::move(s.metric), std::move(s.floats), s.drop_name});
  }
  std::sort(out.begin(), out.end(), [](const RawSeries& a, const RawSeries& b) {
    return model::Labels::Compare(a.metric, b.metric) < 0;
  });
  return out;
}

Matrix Evaluator::EvalSubqueryTop(const parser::SubqueryExpr& sq) {
  std::vector<RawSeries> raw = EvalSubqueryRaw(sq);
  int64_t ref = (sq.timestamp ? *sq.timestamp : start_) - sq.original_offset;
  Matrix out;
  for (RawSeries& rs : raw) {
    Series s;
    s.metric = std::move(rs.metric);
    s.drop_name = rs.drop_name;
    PointsInWindow(rs.floats, ref - sq.range, ref, &s.floats);
    if (!s.floats.empty()) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace kiln::promql
