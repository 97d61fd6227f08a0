#include "web/api/v1/encode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pkg/model/value.h"

namespace kiln::web::api::v1 {
namespace {

std::string Render(const std::function<void(JsonWriter&)>& fn) {
  std::string out;
  {
    JsonWriter w(&out);
    fn(w);
  }
  return out;
}

std::string Result(const promql::Value& v) {
  return Render([&](JsonWriter& w) { WriteResult(w, v); });
}

// Golden strings as Prometheus 2.42 answers the equivalent queries.
TEST(EncodeTest, Timestamps) {
  struct Case {
    int64_t ms;
    const char* want;
  } cases[] = {{4000, "4"},
               {1435781451781, "1435781451.781"},
               {1795303250040, "1795303250.040"},
               {1795303250500, "1795303250.500"},
               {-1500, "-1.500"},
               {-1, "-0.001"},
               {std::numeric_limits<int64_t>::min(), "-9223372036854775.808"},
               {std::numeric_limits<int64_t>::max(), "9223372036854775.807"},
               {1, "0.001"},
               {0, "0"}};
  for (const auto& c : cases) {
    EXPECT_EQ(Render([&](JsonWriter& w) { WriteTimestamp(w, c.ms); }), c.want);
  }
}

TEST(EncodeTest, SampleValues) {
  struct Case {
    double v;
    const char* want;
  } cases[] = {{1.5, R"("1.5")"},
               {std::nan(""), R"("NaN")"},
               {model::StaleNaN(), R"("NaN")"},
               {INFINITY, R"("+Inf")"},
               {-INFINITY, R"("-Inf")"},
               {1e21, R"("1e+21")"},
               {-1e-7, R"("-1e-07")"},
               {1e-6, R"("0.000001")"},
               {9.99e20, R"("999000000000000000000")"},
               {-0.0, R"("-0")"},
               {0.1 + 0.2, R"("0.30000000000000004")"},
               // From 2^53, Go pads the shortest digits with zeros; the exact integer differs.
               {1.1794769188332208e+19, R"("11794769188332208000")"},
               {-1.0150027224361862e+17, R"("-101500272243618620")"},
               {9007199254740991, R"("9007199254740991")"},
               {0.0000012345678901234567, R"("0.0000012345678901234567")"},
               {-5e-324, R"("-5e-324")"}};
  for (const auto& c : cases) {
    EXPECT_EQ(Render([&](JsonWriter& w) { WriteSampleValue(w, c.v); }), c.want);
  }
}

TEST(EncodeTest, Scalar) { EXPECT_EQ(Result(promql::Scalar{4000, 2}), R"([4,"2"])"); }

TEST(EncodeTest, String) { EXPECT_EQ(Result(promql::String{1000, "a<b"}), R"([1,"a\u003cb"])"); }

TEST(EncodeTest, Vector) {
  promql::Vector v;
  v.push_back({model::Labels{{"__name__", "up"}, {"job", "a&b"}}, 1435781451781, 1});
  v.push_back({model::Labels{}, 1435781451781, NAN});
  EXPECT_EQ(Result(v),
            R"([{"metric":{"__name__":"up","job":"a\u0026b"},"value":[1435781451.781,"1"]},)"
            R"({"metric":{},"value":[1435781451.781,"NaN"]}])");
  EXPECT_EQ(Result(promql::Vector{}), "[]");
}

TEST(EncodeTest, Matrix) {
  promql::Matrix m(2);
  m[0].metric = model::Labels{{"a", "1"}};
  m[0].floats = {{1000, 1}, {2000, -INFINITY}};
  m[1].metric = model::Labels{{"a", "2"}};
  EXPECT_EQ(Result(m), R"([{"metric":{"a":"1"},"values":[[1,"1"],[2,"-Inf"]]},)"
                       R"({"metric":{"a":"2"}}])");
  EXPECT_EQ(Result(promql::Matrix{}), "[]");
}

TEST(EncodeTest, Histogram) {
  promql::FloatHistogram h;
  h.schema = 0;
  h.zero_threshold = 0.001;
  h.zero_count = 2;
  h.count = 10;
  h.sum = 33.5;
  h.positive_spans = {{0, 2}, {1, 1}};
  h.positive_buckets = {1, 0, 3};  // buckets 0, 1 and 3; the empty one is left out
  h.negative_spans = {{1, 1}};
  h.negative_buckets = {4};
  EXPECT_EQ(Render([&](JsonWriter& w) { WriteHistogram(w, h); }),
            R"({"count":"10","sum":"33.5","buckets":[)"
            R"([1,"-2","-1","4"],[3,"-0.001","0.001","2"],[0,"0.5","1","1"],[0,"4","8","3"]]})");
  promql::FloatHistogram empty;
  EXPECT_EQ(Render([&](JsonWriter& w) { WriteHistogram(w, empty); }), R"({"count":"0","sum":"0"})");
}

TEST(EncodeTest, Stats) {
  QueryStats s;
  s.eval_total = 0.00005344;
  s.query_preparation = 0.000037787;
  s.peak_samples = 1;
  s.samples_per_step = {{1000, 3}, {2500, 4}};
  EXPECT_EQ(Render([&](JsonWriter& w) { WriteQueryStats(w, s, false); }),
            R"({"timings":{"evalTotalTime":0.00005344,"resultSortTime":0,)"
            R"("queryPreparationTime":0.000037787,"innerEvalTime":0,"execQueueTime":0,)"
            R"("execTotalTime":0},"samples":{"totalQueryableSamples":0,"peakSamples":1}})");
  EXPECT_NE(Render([&](JsonWriter& w) {
              WriteQueryStats(w, s, true);
            }).find(R"("totalQueryableSamplesPerStep":[[1,3],[2.5,4]])"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::web::api::v1
