#include "promql/promqltest/test_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pkg/model/value.h"

namespace kiln::promql::promqltest {
namespace {

struct SeqCase {
  std::string line;
  std::vector<std::string> expected;  // "_" for omitted, "stale", or a number
};

TEST(SeriesDesc, ExpandsSequences) {
  std::vector<SeqCase> cases = {
      {"m 1+2x3", {"1", "3", "5", "7"}},
      {"m 1-1x2", {"1", "0", "-1"}},
      {"m -1x2", {"-1", "-1", "-1"}},
      {"m _x2 5", {"_", "_", "5"}},
      {"m stale Inf -Inf NaN", {"stale", "inf", "-inf", "nan"}},
      {"m{a=\"b c\", d='e'} 1e3 .5", {"1000", "0.5"}},
      {"m 0 {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2", {"0", "h", "h", "h"}},
  };
  for (const SeqCase& c : cases) {
    Result<SeriesDesc> d = ParseSeriesDesc(c.line);
    ASSERT_TRUE(d.ok()) << c.line << ": " << d.status().ToString();
    ASSERT_EQ(d->values.size(), c.expected.size()) << c.line;
    for (size_t i = 0; i < c.expected.size(); ++i) {
      const SequenceValue& v = d->values[i];
      const std::string& e = c.expected[i];
      if (e == "_") {
        EXPECT_TRUE(v.omitted) << c.line;
      } else if (e == "h") {
        EXPECT_TRUE(v.histogram) << c.line;
      } else if (e == "stale") {
        EXPECT_TRUE(model::IsStaleNaN(v.value)) << c.line;
      } else if (e == "nan") {
        EXPECT_TRUE(std::isnan(v.value) && !model::IsStaleNaN(v.value)) << c.line;
      } else if (e == "inf" || e == "-inf") {
        EXPECT_EQ(v.value, e == "inf" ? INFINITY : -INFINITY) << c.line;
      } else {
        EXPECT_DOUBLE_EQ(v.value, std::stod(e)) << c.line;
      }
    }
  }
}

TEST(SeriesDesc, Labels) {
  Result<SeriesDesc> d = ParseSeriesDesc("{__name__=\"x\", job=\"a\\\"b\"} 1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->metric.MetricName(), "x");
  EXPECT_EQ(d->metric.Get("job"), "a\"b");
  Result<SeriesDesc> q = ParseSeriesDesc("{\"my.metric\", a=\"1\"} 1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->metric.MetricName(), "my.metric");
}

TEST(Duration, Parses) {
  EXPECT_EQ(*ParseDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("100ms"), 100);
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("1m1h").ok());
}

TEST(TestFile, ParsesCommands) {
  const char* text = R"(# comment
load 5m
  http_requests{job="a"} 0+10x3

eval instant at 10m http_requests
  expect no_warn
  expect info msg: PromQL info: x (1:1)
  http_requests{job="a"} 20

eval range from 0 to 10m step 5m sum(http_requests)
  {} 0 10 20

eval_fail instant at 0m foo(
  expected_fail_message some error

eval instant at 1m some_metric[1m]
  expect range vector from 10s to 1m step 10s
  some_metric{env="a"} 2 _ 4

eval instant at 0 1+1
  2

clear
)";
  Result<TestFile> tf = ParseTestFile("x.test", text);
  ASSERT_TRUE(tf.ok()) << tf.status().ToString();
  ASSERT_EQ(tf->commands.size(), 7u);
  const auto& load = std::get<LoadCmd>(tf->commands[0]);
  EXPECT_EQ(load.interval_ms, 300000);
  EXPECT_EQ(load.series[0].values.size(), 4u);
  const auto& inst = std::get<EvalCmd>(tf->commands[1]);
  EXPECT_EQ(inst.start, 600000);
  EXPECT_TRUE(inst.expect_no_warn);
  ASSERT_EQ(inst.expect_info.size(), 1u);
  EXPECT_EQ(*inst.expect_info[0].message, "PromQL info: x (1:1)");
  EXPECT_EQ(inst.line, 5);
  const auto& range = std::get<EvalCmd>(tf->commands[2]);
  EXPECT_TRUE(range.is_range);
  EXPECT_EQ(range.step, 300000);
  EXPECT_EQ(range.expr, "sum(http_requests)");
  const auto& fail = std::get<EvalCmd>(tf->commands[3]);
  EXPECT_TRUE(fail.IsFail());
  EXPECT_EQ(*fail.expect_fail[0].message, "some error");
  const auto& rv = std::get<EvalCmd>(tf->commands[4]);
  EXPECT_TRUE(rv.expect_range_vector);
  EXPECT_EQ(rv.start, 10000);
  EXPECT_EQ(rv.end, 60000);
  EXPECT_TRUE(rv.series[0].values[1].omitted);
  const auto& sc = std::get<EvalCmd>(tf->commands[5]);
  EXPECT_TRUE(sc.expect_scalar);
  EXPECT_EQ(sc.scalar, 2);
  EXPECT_TRUE(std::holds_alternative<ClearCmd>(tf->commands[6]));
}

TEST(TestFile, ParsesWholeCorpus) {
  // Every corpus file must be readable (when the corpus is present).
  const char* dir = std::getenv("PROMQLTEST_DIR");
  const char* src = std::getenv("KILN_SOURCE_DIR");
  std::filesystem::path path =
      dir ? dir : std::filesystem::path(src ? src : ".") / ".." / "shared" / "promqltest";
  if (!std::filesystem::is_directory(path)) GTEST_SKIP() << "corpus not found at " << path;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().extension() != ".test") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    Result<TestFile> tf = ParseTestFile(e.path().filename().string(), ss.str());
    EXPECT_TRUE(tf.ok()) << e.path() << ": " << tf.status().ToString();
    ++files;
  }
  EXPECT_GT(files, 10);
}

}  // namespace
}  // namespace kiln::promql::promqltest
