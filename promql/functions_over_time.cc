// Aggregations over time of one series' window: *_over_time, ts_of_*_over_time,
// mad_over_time, double_exponential_smoothing.
#include <cmath>
#include <cstdio>

#include "promql/functions.h"
#include "promql/kahan.h"

namespace kiln::promql {

namespace {

void Emit(FunctionCall& c, double f) { c.out->push_back(Sample{{}, c.ts, f}); }

void Over(FunctionTable* t, const char* name, double (*f)(const std::vector<FPoint>&),
          bool keeps_name = false) {
  (*t)[name] = {[f](FunctionCall& c) { Emit(c, f(*c.points)); }, keeps_name};
}

double AvgOverTime(const std::vector<FPoint>& p) {
  double sum = p[0].f, count = 1, mean = 0, c = 0;
  bool incremental = false;
  for (size_t i = 1; i < p.size(); ++i) {
    count = static_cast<double>(i + 1);
    if (!incremental) {
      auto [ns, nc] = KahanSumInc(p[i].f, sum, c);
      if (!std::isinf(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      // The sum would overflow: switch to an incremental mean.
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    double q = (count - 1) / count;
    std::tie(mean, c) = KahanSumInc(p[i].f / count, q * mean, q * c);
  }
  return incremental ? mean + c : sum / count + c / count;
}

double Variance(const std::vector<FPoint>& p) {
  double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
  for (const FPoint& x : p) {
    count++;
    double delta = x.f - (mean + cmean);
    std::tie(mean, cmean) = KahanSumInc(delta / count, mean, cmean);
    std::tie(aux, caux) = KahanSumInc(delta * (x.f - (mean + cmean)), aux, caux);
  }
  return (aux + caux) / count;
}

// The timestamp (seconds) of the extreme value; later samples win ties, NaNs lose.
template <typename Better>
double TsOfExtreme(const std::vector<FPoint>& p, Better better) {
  size_t best = 0;
  for (size_t i = 1; i < p.size(); ++i) {
    if (better(p[i].f, p[best].f) || std::isnan(p[best].f)) best = i;
  }
  return static_cast<double>(p[best].t) / 1000;
}

std::string FormatPrintfF(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%f", v);
  return buf;
}

void DoubleExponentialSmoothing(FunctionCall& c) {
  double sf = c.Scalar(1), tf = c.Scalar(2);
  if (!(sf > 0 && sf < 1)) {
    ThrowExecution("invalid smoothing factor. Expected: 0 < sf < 1, got: " + FormatPrintfF(sf));
  }
  if (!(tf > 0 && tf < 1)) {
    ThrowExecution("invalid trend factor. Expected: 0 < tf < 1, got: " + FormatPrintfF(tf));
  }
  const auto& p = *c.points;
  if (p.size() < 2) return;
  double s0 = 0, s1 = p[0].f, b = p[1].f - p[0].f;
  for (size_t i = 1; i < p.size(); ++i) {
    double x = sf * p[i].f;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  Emit(c, s1);
}

}  // namespace

void RegisterOverTimeFunctions(FunctionTable* t) {
  Over(t, "avg_over_time", AvgOverTime);
  Over(t, "sum_over_time", [](const std::vector<FPoint>& p) {
    double s = 0, c = 0;
    for (const FPoint& x : p) std::tie(s, c) = KahanSumInc(x.f, s, c);
    return s + c;
  });
  Over(t, "count_over_time", [](const std::vector<FPoint>& p) { return double(p.size()); });
  Over(t, "min_over_time", [](const std::vector<FPoint>& p) {
    double m = p[0].f;
    for (const FPoint& x : p) {
      if (x.f < m || std::isnan(m)) m = x.f;
    }
    return m;
  });
  Over(t, "max_over_time", [](const std::vector<FPoint>& p) {
    double m = p[0].f;
    for (const FPoint& x : p) {
      if (x.f > m || std::isnan(m)) m = x.f;
    }
    return m;
  });
  Over(t, "stdvar_over_time", Variance);
  Over(t, "stddev_over_time", [](const std::vector<FPoint>& p) { return std::sqrt(Variance(p)); });
  Over(
      t, "last_over_time", [](const std::vector<FPoint>& p) { return p.back().f; }, true);
  Over(
      t, "first_over_time", [](const std::vector<FPoint>& p) { return p.front().f; }, true);
  Over(t, "present_over_time", [](const std::vector<FPoint>&) { return 1.0; });
  Over(t, "ts_of_last_over_time",
       [](const std::vector<FPoint>& p) { return static_cast<double>(p.back().t) / 1000; });
  Over(t, "ts_of_first_over_time",
       [](const std::vector<FPoint>& p) { return static_cast<double>(p.front().t) / 1000; });
  Over(t, "ts_of_max_over_time", [](const std::vector<FPoint>& p) {
    return TsOfExtreme(p, [](double a, double b) { return a >= b; });
  });
  Over(t, "ts_of_min_over_time", [](const std::vector<FPoint>& p) {
    return TsOfExtreme(p, [](double a, double b) { return a <= b; });
  });
  Over(t, "mad_over_time", [](const std::vector<FPoint>& p) {
    std::vector<double> v;
    for (const FPoint& x : p) {
      if (std::isnan(x.f)) return x.f;
      v.push_back(x.f);
    }
    double median = Quantile(0.5, v);
    for (double& d : v) d = std::fabs(d - median);
    return Quantile(0.5, std::move(v));
  });
  (*t)["quantile_over_time"] = {[](FunctionCall& c) {
                                  double q = c.Scalar(0);
                                  if (!(q >= 0 && q <= 1)) {
                                    c.ev->annotations().InvalidQuantile(
                                        q, c.call->args[0]->PositionRange().start);
                                  }
                                  std::vector<double> v;
                                  for (const FPoint& x : *c.points) v.push_back(x.f);
                                  Emit(c, Quantile(q, std::move(v)));
                                },
                                false};
  (*t)["double_exponential_smoothing"] = {DoubleExponentialSmoothing, false};
  (*t)["absent_over_time"] = {[](FunctionCall&) {}, false};
}

}  // namespace kiln::promql
