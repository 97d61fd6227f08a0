#include "promql/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "promql/promqltest/memory_storage.h"
#include "promql/xxhash64.h"

namespace kiln::promql {
namespace {

TEST(XxHash64, KnownVectors) {
  struct Case {
    std::string in;
    uint64_t want;
  };
  for (const Case& c : std::vector<Case>{
           {"", 0xEF46DB3751D8E999ull},
           {"abc", 0x44BC2CF5AD770999ull},
           {"Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1ull},
       }) {
    EXPECT_EQ(XxHash64(c.in), c.want) << c.in;
  }
}

TEST(FormatFloat, GoForms) {
  struct Case {
    double f;
    std::string g, v, fixed;
  };
  for (const Case& c : std::vector<Case>{
           {0.5, "0.5", "0.5", "0.5"},
           {1e6, "1e+06", "1e+06", "1000000"},
           {1.1, "1.1", "1.1", "1.1"},
           {-2e-5, "-2e-05", "-2e-05", "-0.00002"},
           {1e21, "1e+21", "1e+21", "1000000000000000000000"},
           {123456, "123456", "123456", "123456"},
           {NAN, "NaN", "NaN", "NaN"},
           {-INFINITY, "-Inf", "-Inf", "-Inf"},
       }) {
    EXPECT_EQ(FormatFloatG(c.f), c.g);
    EXPECT_EQ(FormatFloat(c.f), c.fixed);
  }
  EXPECT_EQ(FormatFloatV(1e20), "100000000000000000000");
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<model::Sample> a, b;
    for (int i = 0; i <= 10; ++i) {
      a.push_back({i * 60000, static_cast<double>(i)});
      b.push_back({i * 60000, static_cast<double>(2 * i)});
    }
    storage_.Add(model::Labels{{"__name__", "foo"}, {"job", "a"}}, a);
    storage_.Add(model::Labels{{"__name__", "foo"}, {"job", "b"}}, b);
  }

  Result<QueryResult> Instant(const Engine& e, std::string_view q, int64_t ts,
                              const std::atomic<bool>* cancel = nullptr) {
    auto query = e.NewInstantQuery(&storage_, q, ts);
    if (!query.ok()) return query.status();
    return (*query)->Exec(cancel);
  }

  promqltest::MemoryStorage storage_;
  EngineOptions opts_;
};

TEST_F(EngineTest, InstantAndRange) {
  Engine engine(opts_);
  auto r = Instant(engine, "sum(foo)", 300000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Vector& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].f, 15);
  EXPECT_TRUE(v[0].metric.empty());

  auto q = engine.NewRangeQuery(&storage_, "foo{job=\"b\"} * 2", 0, 120000, 60000);
  ASSERT_TRUE(q.ok());
  auto rr = (*q)->Exec();
  ASSERT_TRUE(rr.ok());
  const Matrix& m = std::get<Matrix>(rr->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].floats.size(), 3u);
  EXPECT_EQ(m[0].floats[2].f, 8);
  EXPECT_EQ(m[0].metric.Get("job"), "b");
  EXPECT_FALSE(m[0].metric.Has("__name__"));

  auto s = Instant(engine, "1 + 2", 0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(std::get<Scalar>(s->value).v, 3);
}

TEST_F(EngineTest, ErrorCodes) {
  Engine engine(opts_);
  struct Case {
    std::string query;
    StatusCode code;
    std::string message;  // substring
  };
  for (const Case& c : std::vector<Case>{
           {"sum(", StatusCode::kBadData, "parse error"},
           {"foo + on(job) group_left foo{job=\"a\"} + ignoring(job) foo", StatusCode::kExecution,
            "many-to-many matching not allowed"},
           {"label_replace(foo, \"job\", \"x\", \"job\", \".*\")", StatusCode::kExecution,
            "vector cannot contain metrics with the same labelset"},
       }) {
    auto r = Instant(engine, c.query, 300000);
    ASSERT_FALSE(r.ok()) << c.query;
    EXPECT_EQ(r.status().code(), c.code) << c.query << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
  auto q = engine.NewRangeQuery(&storage_, "foo[5m]", 0, 60000, 60000);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(),
            "invalid expression type \"range vector\" for range query, must be Scalar or "
            "instant Vector");
}

TEST_F(EngineTest, LimitsAndCancel) {
  EngineOptions small = opts_;
  small.max_samples = 5;
  Engine limited(small);
  auto r = Instant(limited, "sum_over_time(foo[10m])", 600000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(r.status().message(),
            "query processing would load too many samples into memory in query execution");

  Engine engine(opts_);
  std::atomic<bool> cancel{true};
  auto c = Instant(engine, "foo", 0, &cancel);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCanceled);

  EngineOptions instant_timeout = opts_;
  instant_timeout.timeout = std::chrono::milliseconds(-1);
  Engine timed_out(instant_timeout);
  auto t = Instant(timed_out, "foo", 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kTimeout);
}

TEST_F(EngineTest, AnnotationsCarryPositions) {
  Engine engine(opts_);
  auto r = Instant(engine, "rate(foo[5m])", 600000);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> infos = r->annotations.Infos("rate(foo[5m])");
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0],
            "PromQL info: metric might not be a counter, name does not end in "
            "_total/_sum/_count/_bucket: \"foo\" (1:6)");
  auto q = Instant(engine, "quantile(2, foo)", 600000);
  ASSERT_TRUE(q.ok());
  std::vector<std::string> warns = q->annotations.Warnings("quantile(2, foo)");
  ASSERT_EQ(warns.size(), 1u);
  EXPECT_EQ(warns[0], "PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)");
}

}  // namespace
}  // namespace kiln::promql
