// Histogram functions. histogram_quantile() works on classic (`le`-bucketed) histograms;
// the functions that only read native histograms ignore float samples, which is all Kiln
// evaluates so far.
#include <algorithm>
#include <cmath>
#include <map>

#include "promql/functions.h"

namespace kiln::promql {

namespace {

struct Bucket {
  double upper;
  double count;
};

bool AlmostEqual(double a, double b, double eps) {
  if (a == b) return true;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < eps * kMinNormal;
  return diff / std::min(abs_sum, 1.7976931348623157e308) < eps;
}

// Makes cumulative counts non-decreasing; returns whether a real decrease was fixed (tiny
// floating-point differences are smoothed silently).
bool EnsureMonotonic(std::vector<Bucket>* b) {
  bool forced = false;
  double prev = (*b)[0].count;
  for (size_t i = 1; i < b->size(); ++i) {
    double cur = (*b)[i].count;
    if (cur == prev) continue;
    if (AlmostEqual(prev, cur, 1e-12)) {
      (*b)[i].count = prev;
      continue;
    }
    if (cur < prev) {
      (*b)[i].count = prev;
      forced = true;
      continue;
    }
    prev = cur;
  }
  return forced;
}

double BucketQuantile(double q, std::vector<Bucket> b, bool* forced) {
  if (std::isnan(q)) return std::nan("");
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::stable_sort(b.begin(), b.end(),
                   [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (!std::isinf(b.back().upper) || b.back().upper < 0) return std::nan("");
  std::vector<Bucket> merged;
  for (const Bucket& x : b) {
    if (!merged.empty() && merged.back().upper == x.upper) {
      merged.back().count += x.count;
    } else {
      merged.push_back(x);
    }
  }
  *forced = EnsureMonotonic(&merged);
  if (merged.size() < 2) return std::nan("");
  double observations = merged.back().count;
  if (observations == 0) return std::nan("");
  double rank = q * observations;
  size_t i = 0;
  while (i < merged.size() - 1 && merged[i].count < rank) ++i;
  if (i == merged.size() - 1) return merged[merged.size() - 2].upper;
  if (i == 0 && merged[0].upper <= 0) return merged[0].upper;
  double start = 0, end = merged[i].upper, count = merged[i].count;
  if (i > 0) {
    start = merged[i - 1].upper;
    count -= merged[i - 1].count;
    rank -= merged[i - 1].count;
  }
  return start + (end - start) * (rank / count);
}

// The observations at or below `x`, interpolated linearly inside a bucket. A bucket of
// infinite width is not interpolated: a point inside it counts as its finite end.
double RankAt(const std::vector<Bucket>& b, double x) {
  double prev_cum = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    double ub = b[i].upper;
    if (ub < x) {
      prev_cum = b[i].count;
      continue;
    }
    double lb = i > 0 ? b[i - 1].upper : (ub > 0 ? 0 : -INFINITY);
    if (x >= ub) return b[i].count;
    if (x <= lb) return prev_cum;
    if (std::isinf(lb)) return b[i].count;
    if (std::isinf(ub)) return prev_cum;
    return prev_cum + (b[i].count - prev_cum) * (x - lb) / (ub - lb);
  }
  return prev_cum;
}

// Sorted, merged and monotonic buckets ending in +Inf, or empty when unusable.
std::vector<Bucket> PrepareBuckets(std::vector<Bucket> b) {
  std::stable_sort(b.begin(), b.end(),
                   [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  std::vector<Bucket> merged;
  for (const Bucket& x : b) {
    if (!merged.empty() && merged.back().upper == x.upper) {
      merged.back().count += x.count;
    } else {
      merged.push_back(x);
    }
  }
  if (merged.empty() || !std::isinf(merged.back().upper) || merged.back().upper < 0) return {};
  EnsureMonotonic(&merged);
  return merged;
}

double BucketFraction(double lower, double upper, std::vector<Bucket> raw) {
  if (std::isnan(lower) || std::isnan(upper)) return std::nan("");
  std::vector<Bucket> b = PrepareBuckets(std::move(raw));
  if (b.empty()) return std::nan("");
  double total = b.back().count;
  if (total == 0) return std::nan("");
  if (lower >= upper) return 0;
  return (RankAt(b, upper) - RankAt(b, lower)) / total;
}

// Quantile values as label values: integral values keep one decimal ("1.0").
std::string QuantileLabel(double q) {
  std::string s = FormatFloat(q);
  if (std::isfinite(q) && s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

struct BucketGroup {
  Sample proto;  // labels of the result (le removed)
  std::vector<Bucket> buckets;
};

// Groups classic bucket series by their labels without `le` (the metric name stays part of
// the group, so distinct histograms never merge).
std::vector<BucketGroup> GroupBuckets(FunctionCall& c, const Vector& in, int pos) {
  std::map<std::string, size_t> index;
  std::vector<BucketGroup> groups;
  for (const Sample& s : in) {
    std::string_view le = s.metric.Get("le");
    std::optional<double> upper = ParseGoFloat(le);
    if (!upper) {
      c.ev->annotations().BadBucketLabel(s.metric.MetricName(), le, pos);
      continue;
    }
    model::Labels key = s.metric.Without({"le"});
    auto [it, inserted] = index.try_emplace(key.data(), groups.size());
    if (inserted) {
      Sample proto = s;
      proto.metric = s.metric.Without({"le"});
      groups.push_back(BucketGroup{std::move(proto), {}});
    }
    groups[it->second].buckets.push_back({*upper, s.f});
  }
  return groups;
}

void WarnQuantile(FunctionCall& c, double q, int pos) {
  if (!(q >= 0 && q <= 1)) c.ev->annotations().InvalidQuantile(q, pos);
}

void HistogramQuantile(FunctionCall& c) {
  double q = c.Scalar(0);
  int vpos = c.call->args[1]->PositionRange().start;
  WarnQuantile(c, q, c.call->args[0]->PositionRange().start);
  for (BucketGroup& g : GroupBuckets(c, *c.args[1], vpos)) {
    bool forced = false;
    double v = BucketQuantile(q, g.buckets, &forced);
    if (forced) {
      c.ev->annotations().HistogramQuantileForcedMonotonicity(g.proto.metric.MetricName(), vpos);
    }
    EmitLike(g.proto, v, c.out);
  }
}

void HistogramQuantiles(FunctionCall& c) {
  int vpos = c.call->args[0]->PositionRange().start;
  std::string label = c.StringArg(1).val;
  std::vector<double> qs;
  for (size_t i = 2; i < c.args.size(); ++i) {
    qs.push_back(c.Scalar(i));
    WarnQuantile(c, qs.back(), c.call->args[i]->PositionRange().start);
  }
  for (BucketGroup& g : GroupBuckets(c, *c.args[0], vpos)) {
    for (double q : qs) {
      bool forced = false;
      double v = BucketQuantile(q, g.buckets, &forced);
      if (forced) {
        c.ev->annotations().HistogramQuantileForcedMonotonicity(g.proto.metric.MetricName(), vpos);
      }
      Sample s = g.proto;
      model::LabelsBuilder b(s.metric);
      b.Set(label, QuantileLabel(q));
      s.metric = b.Build();
      EmitLike(s, v, c.out);
    }
  }
}

void HistogramFraction(FunctionCall& c) {
  double lower = c.Scalar(0), upper = c.Scalar(1);
  int vpos = c.call->args[2]->PositionRange().start;
  for (BucketGroup& g : GroupBuckets(c, *c.args[2], vpos)) {
    EmitLike(g.proto, BucketFraction(lower, upper, g.buckets), c.out);
  }
}

}  // namespace

void RegisterHistogramFunctions(FunctionTable* t) {
  (*t)["histogram_quantile"] = {HistogramQuantile, false};
  (*t)["histogram_quantiles"] = {HistogramQuantiles, false};
  (*t)["histogram_fraction"] = {HistogramFraction, false};
  for (const char* name : {"histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev",
                           "histogram_stdvar"}) {
    (*t)[name] = {[](FunctionCall&) {}, false};
  }
}

}  // namespace kiln::promql
