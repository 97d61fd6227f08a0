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

void HistogramQuantile(FunctionCall& c) {
  double q = c.Scalar(0);
  int qpos = c.call->args[0]->PositionRange().start;
  int vpos = c.call->args[1]->PositionRange().start;
  if (!(q >= 0 && q <= 1) && !c.args[1]->empty()) c.ev->annotations().InvalidQuantile(q, qpos);
  struct Group {
    Sample proto;
    std::vector<Bucket> buckets;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> order;
  for (const Sample& s : *c.args[1]) {
    std::string_view le = s.metric.Get("le");
    std::optional<double> upper = ParseGoFloat(le);
    if (!upper) {
      c.ev->annotations().BadBucketLabel(s.metric.MetricName(), le, vpos);
      continue;
    }
    model::Labels key = s.metric.Without({"le", std::string(model::kMetricName)});
    auto [it, inserted] = groups.try_emplace(key.data());
    if (inserted) {
      order.push_back(key.data());
      it->second.proto = s;
      it->second.proto.metric = s.metric.Without({"le"});
    }
    it->second.buckets.push_back({*upper, s.f});
  }
  for (const std::string& k : order) {
    Group& g = groups[k];
    bool forced = false;
    double v = BucketQuantile(q, g.buckets, &forced);
    if (forced) {
      c.ev->annotations().HistogramQuantileForcedMonotonicity(g.proto.metric.MetricName(), vpos);
    }
    EmitLike(g.proto, v, c.out);
  }
}

}  // namespace

void RegisterHistogramFunctions(FunctionTable* t) {
  (*t)["histogram_quantile"] = {HistogramQuantile, false};
  for (const char* name : {"histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev",
                           "histogram_stdvar", "histogram_fraction", "histogram_quantiles"}) {
    (*t)[name] = {[](FunctionCall&) {}, false};
  }
}

}  // namespace kiln::promql
