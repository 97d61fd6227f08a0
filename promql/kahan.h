// Kahan–Neumaier compensated summation, as Prometheus uses for sum, avg and *_over_time.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

namespace kiln::promql {

// Adds `inc` to `sum` with compensation `c`; returns the new (sum, c). The compensation is
// reset when the sum overflows to ±Inf (it would otherwise turn into NaN).
inline std::pair<double, double> KahanSumInc(double inc, double sum, double c) {
  double t = sum + inc;
  if (std::isinf(t)) {
    c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  return {t, c};
}

// The φ-quantile of `values` with linear interpolation (NaN sorts lowest); -Inf/+Inf for
// φ < 0 / φ > 1, NaN for an empty input or NaN φ.
double Quantile(double q, std::vector<double> values);

}  // namespace kiln::promql
