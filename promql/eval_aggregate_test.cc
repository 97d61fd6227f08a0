// Aggregations over range queries: the grouped accumulation (per-series group slots, steps
// accumulated in blocks) must give, at every step, exactly what an instant query at that
// step gives, and the right counts for series that appear and disappear mid-range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "promql/promqltest/memory_storage.h"

namespace kiln::promql {
namespace {

constexpr int64_t kStep = 60'000;
constexpr int kSteps = 150;  // more than one block of steps, and not a multiple of it
// More groups than the slot budget holds blocks of steps for, so `by (g)` runs one step per
// block while `by (h)` runs many.
constexpr int kSeries = 8300;

// Series i has samples from step first(i) to step last(i); outside that (beyond the 5m
// lookback) it is absent.
int FirstStep(int i) { return (i * 7) % 40; }
int LastStep(int i) { return kSteps - 1 - (i * 11) % 50; }

class AggregateRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kSeries; ++i) {
      std::vector<model::Sample> samples;
      for (int k = FirstStep(i); k <= LastStep(i); ++k) {
        // Values of mixed magnitude, so summation order shows in the results.
        const double v = std::sin(i * 0.37 + k * 0.11) * std::pow(10.0, (i + k) % 9 - 3);
        samples.push_back({k * kStep, v});
      }
      storage_.Add(model::Labels{{"__name__", "m"},
                                 {"g", std::to_string(i)},
                                 {"h", std::to_string(i % 7)},
                                 {"s", "x"}},
                   samples);
    }
  }

  Matrix Range(const std::string& q) {
    auto query = engine_.NewRangeQuery(&storage_, q, 0, (kSteps - 1) * kStep, kStep);
    EXPECT_TRUE(query.ok()) << query.status().ToString();
    auto r = (*query)->Exec();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::get<Matrix>(r->value);
  }

  Vector Instant(const std::string& q, int64_t ts) {
    auto query = engine_.NewInstantQuery(&storage_, q, ts);
    EXPECT_TRUE(query.ok()) << query.status().ToString();
    auto r = (*query)->Exec();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::get<Vector>(r->value);
  }

  // Steps compared against instant queries: a spread, and those around block boundaries.
  bool Checked(int k) const {
    return k % 10 == 0 || k == 63 || k == 64 || k == 65 || k == 127 || k == 128 || k == 149;
  }

  promqltest::MemoryStorage storage_;
  EngineOptions opts_;
  std::vector<int> checked_ = [this] {
    std::vector<int> v;
    for (int k = 0; k < kSteps; ++k) {
      if (Checked(k)) v.push_back(k);
    }
    return v;
  }();
  Engine engine_{opts_};
};

bool SameFloat(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

TEST_F(AggregateRangeTest, RangeStepsEqualInstantQueries) {
  for (const std::string q :
       {"sum by (h) (m)", "avg without (s, g) (m)", "count(m)", "max(m)", "stddev by (h) (m)",
        "quantile by (h) (0.3, m)", "sum by (g) (m)", "topk by (h) (3, m)", "bottomk(5, m)"}) {
    SCOPED_TRACE(q);
    // Range results by label set, then step.
    std::map<std::string, std::map<int64_t, double>> range;
    for (const Series& s : Range(q)) {
      for (const FPoint& p : s.floats) range[s.metric.data()][p.t] = p.f;
    }
    size_t instant_points = 0;
    for (int k : checked_) {
      for (const Sample& s : Instant(q, k * kStep)) {
        ++instant_points;
        auto it = range.find(s.metric.data());
        ASSERT_NE(it, range.end()) << s.metric.ToString() << " at step " << k;
        auto pt = it->second.find(k * kStep);
        ASSERT_NE(pt, it->second.end()) << s.metric.ToString() << " at step " << k;
        EXPECT_TRUE(SameFloat(pt->second, s.f))
            << s.metric.ToString() << " at step " << k << ": " << pt->second << " vs " << s.f;
      }
    }
    size_t range_points = 0;
    for (const auto& [metric, points] : range) {
      for (const auto& [t, f] : points) range_points += Checked(static_cast<int>(t / kStep));
    }
    EXPECT_EQ(range_points, instant_points);
    EXPECT_GT(instant_points, 0u);
  }
}

TEST_F(AggregateRangeTest, CountFollowsSeriesLifetimes) {
  Matrix m = Range("count(m)");
  ASSERT_EQ(m.size(), 1u);
  std::map<int64_t, double> got;
  for (const FPoint& p : m[0].floats) got[p.t] = p.f;
  const int lookback_steps = 5;  // 5m lookback at a 1m step
  for (int k = 0; k < kSteps; ++k) {
    int want = 0;
    for (int i = 0; i < kSeries; ++i) {
      if (k >= FirstStep(i) && k <= LastStep(i) + lookback_steps - 1) ++want;
    }
    if (want == 0) {
      EXPECT_EQ(got.count(k * kStep), 0u) << k;
    } else {
      EXPECT_EQ(got[k * kStep], want) << "step " << k;
    }
  }
}

// Many groups (one step per block): each series' group is present exactly while the series
// is, with its own value.
TEST_F(AggregateRangeTest, ManyGroupsFollowTheirSeries) {
  Matrix m = Range("sum by (g) (m)");
  ASSERT_EQ(m.size(), static_cast<size_t>(kSeries));
  for (const Series& s : m) {
    const int i = std::stoi(std::string(s.metric.Get("g")));
    const int last = std::min(kSteps - 1, LastStep(i) + 4);  // 5m lookback at a 1m step
    ASSERT_EQ(s.floats.size(), static_cast<size_t>(last - FirstStep(i) + 1)) << i;
    for (size_t n = 0; n < s.floats.size(); ++n) {
      const int k = FirstStep(i) + static_cast<int>(n);
      ASSERT_EQ(s.floats[n].t, k * kStep) << i;
      const int sample_step = std::min(k, LastStep(i));
      const double want =
          std::sin(i * 0.37 + sample_step * 0.11) * std::pow(10.0, (i + sample_step) % 9 - 3);
      ASSERT_EQ(s.floats[n].f, want) << "series " << i << " step " << k;
    }
  }
}

}  // namespace
}  // namespace kiln::promql
