// Counter and gauge change functions over range vectors: rate, increase, delta (with
// Prometheus's extrapolation), irate, idelta, deriv, predict_linear, changes, resets.
#include <cmath>

#include "promql/functions.h"
#include "promql/kahan.h"

namespace kiln::promql {

namespace {

void Emit(FunctionCall& c, double f) { c.out->push_back(Sample{{}, c.ts, f}); }

// Extrapolates the change over the window to its edges, unless the series seems to start
// or end inside the window (gap to the edge over 1.1× the average sample spacing), in which
// case it extrapolates half a spacing only. Counters are not extrapolated below zero.
// rate/increase/delta over an anchored or smoothed range: the difference between the edge
// values, corrected for counter resets strictly inside the window, without extrapolation.
void ExtendedRate(FunctionCall& c, bool is_counter, bool is_rate) {
  const std::vector<FPoint>& f = *c.points;
  size_t last = f.size() - 1;
  size_t first = SearchIndex(last, [&](size_t i) { return f[i].t > c.range_start; });
  first = first > 0 ? first - 1 : 0;
  if (c.smoothed) last = SearchIndex(last, [&](size_t i) { return f[i].t >= c.range_end; });
  // No samples inside the window (all before or all after it): no result.
  if (f[last].t <= c.range_start || f[first].t > c.range_end) return;
  double left = EdgeValueLeft(f, first, c.range_start, c.smoothed, is_counter);
  double right = EdgeValueRight(f, last, c.range_end, c.smoothed, is_counter);
  double result = right - left;
  if (is_counter) {
    ptrdiff_t lo = f[first].t <= c.range_start ? first + 1 : first;
    ptrdiff_t hi = f[last].t >= c.range_end ? static_cast<ptrdiff_t>(last) - 1 : last;
    double prev = left;
    for (ptrdiff_t i = lo; i <= hi; ++i) {
      if (f[i].f < prev) result += prev;
      prev = f[i].f;
    }
    if (right < prev) result += prev;
  }
  if (is_rate) result /= static_cast<double>(c.range) / 1000;
  Emit(c, result);
}

void ExtrapolatedRate(FunctionCall& c, bool is_counter, bool is_rate) {
  if (c.anchored || c.smoothed) {
    ExtendedRate(c, is_counter, is_rate);
    return;
  }
  const std::vector<FPoint>& p = *c.points;
  if (p.size() < 2) return;
  size_t last = p.size() - 1;
  double result = p[last].f - p[0].f;
  if (is_counter) {
    double prev = p[0].f;
    for (size_t i = 1; i < p.size(); ++i) {
      if (p[i].f < prev) result += prev;
      prev = p[i].f;
    }
  }
  double to_start = static_cast<double>(p[0].t - c.range_start) / 1000;
  double to_end = static_cast<double>(c.range_end - p[last].t) / 1000;
  double sampled = static_cast<double>(p[last].t - p[0].t) / 1000;
  double avg_spacing = sampled / static_cast<double>(last);
  double threshold = avg_spacing * 1.1;
  if (to_start >= threshold) to_start = avg_spacing / 2;
  if (is_counter && result > 0 && p[0].f >= 0) {
    double to_zero = sampled * (p[0].f / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  if (to_end >= threshold) to_end = avg_spacing / 2;
  double factor = (sampled + to_start + to_end) / sampled;
  if (is_rate) factor /= static_cast<double>(c.range) / 1000;
  Emit(c, result * factor);
}

void InstantValue(FunctionCall& c, bool is_rate) {
  const std::vector<FPoint>& p = *c.points;
  if (p.size() < 2) return;
  const FPoint& last = p[p.size() - 1];
  const FPoint& prev = p[p.size() - 2];
  double v = is_rate && last.f < prev.f ? last.f : last.f - prev.f;
  int64_t dt = last.t - prev.t;
  if (dt == 0) return;
  if (is_rate) v /= static_cast<double>(dt) / 1000;
  Emit(c, v);
}

// Least-squares fit of the points with x in seconds relative to `intercept_time`.
std::pair<double, double> LinearRegression(const std::vector<FPoint>& p, int64_t intercept_time) {
  double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
  double init_y = p[0].f;
  bool const_y = true;
  for (size_t i = 0; i < p.size(); ++i) {
    if (const_y && i > 0 && p[i].f != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(p[i].t - intercept_time) / 1e3;
    std::tie(sx, cx) = KahanSumInc(x, sx, cx);
    std::tie(sy, cy) = KahanSumInc(p[i].f, sy, cy);
    std::tie(sxy, cxy) = KahanSumInc(x * p[i].f, sxy, cxy);
    std::tie(sx2, cx2) = KahanSumInc(x * x, sx2, cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {std::nan(""), std::nan("")};
    return {0, init_y};
  }
  sx += cx;
  sy += cy;
  sxy += cxy;
  sx2 += cx2;
  double cov = sxy - sx * sy / n;
  double var = sx2 - sx * sx / n;
  double slope = cov / var;
  return {slope, sy / n - slope * sx / n};
}

}  // namespace

void RegisterRateFunctions(FunctionTable* t) {
  (*t)["rate"] = {[](FunctionCall& c) { ExtrapolatedRate(c, true, true); }, false};
  (*t)["increase"] = {[](FunctionCall& c) { ExtrapolatedRate(c, true, false); }, false};
  (*t)["delta"] = {[](FunctionCall& c) { ExtrapolatedRate(c, false, false); }, false};
  (*t)["irate"] = {[](FunctionCall& c) { InstantValue(c, true); }, false};
  (*t)["idelta"] = {[](FunctionCall& c) { InstantValue(c, false); }, false};
  (*t)["deriv"] = {[](FunctionCall& c) {
                     if (c.points->size() < 2) return;
                     Emit(c, LinearRegression(*c.points, (*c.points)[0].t).first);
                   },
                   false};
  (*t)["predict_linear"] = {[](FunctionCall& c) {
                              if (c.points->size() < 2) return;
                              auto [slope, icpt] = LinearRegression(*c.points, c.ts);
                              Emit(c, slope * c.Scalar(1) + icpt);
                            },
                            false};
  (*t)["changes"] = {[](FunctionCall& c) {
                       const auto& p = *c.points;
                       double n = 0;
                       for (size_t i = 1; i < p.size(); ++i) {
                         bool both_nan = std::isnan(p[i].f) && std::isnan(p[i - 1].f);
                         if (p[i].f != p[i - 1].f && !both_nan) ++n;
                       }
                       Emit(c, n);
                     },
                     false};
  (*t)["resets"] = {[](FunctionCall& c) {
                      const auto& p = *c.points;
                      double n = 0;
                      for (size_t i = 1; i < p.size(); ++i) {
                        if (p[i].f < p[i - 1].f) ++n;
                      }
                      Emit(c, n);
                    },
                    false};
}

}  // namespace kiln::promql
