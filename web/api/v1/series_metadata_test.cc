#include "web/api/v1/series_metadata.h"

#include <gtest/gtest.h>

#include "web/api/v1/api.h"
#include "web/api/v1/test_storage.h"

namespace kiln::web::api::v1 {
namespace {

TEST(SeriesMetadataTest, GroupsByMetricFamily) {
  TestQueryable storage({
      {model::Labels{{"__name__", "reqs_total"}, {"code", "200"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "reqs_total"}, {"code", "500"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "temp"}, {"room", "a"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "temp"}, {"room", "b"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "bare"}}, {{1000, 1}}},
  });
  auto lookup = [](const model::Labels& ls, model::Metadata* md) {
    if (ls.MetricName() == "reqs_total") {
      *md = {model::MetricType::kCounter, "Requests <served>.", ""};
      return true;
    }
    if (ls.MetricName() == "temp") {
      // Two targets disagree on the help text: both versions are listed.
      *md = {model::MetricType::kGauge, ls.Get("room") == "a" ? "Temp." : "Temperature.",
             "celsius"};
      return true;
    }
    return false;
  };
  SeriesMetadataSource source(&storage, lookup);
  ApiDeps deps;
  deps.metadata = &source;
  const Api api(deps);
  auto body = [&](std::vector<Param> form) {
    ApiRequest r;
    r.form = std::move(form);
    return api.Handle("/metadata", r).BodyString();
  };
  EXPECT_EQ(body({}), R"({"status":"success","data":{"reqs_total":[{"type":"counter",)"
                      R"("help":"Requests \u003cserved\u003e.","unit":""}],"temp":[)"
                      R"({"type":"gauge","help":"Temp.","unit":"celsius"},)"
                      R"({"type":"gauge","help":"Temperature.","unit":"celsius"}]}})");
  EXPECT_EQ(body({{"metric", "temp"}, {"limit_per_metric", "1"}}),
            R"({"status":"success","data":{"temp":[)"
            R"({"type":"gauge","help":"Temp.","unit":"celsius"}]}})");
  EXPECT_EQ(body({{"limit", "1"}}),
            R"({"status":"success","data":{"reqs_total":[{"type":"counter",)"
            R"("help":"Requests \u003cserved\u003e.","unit":""}]}})");
  EXPECT_EQ(body({{"metric", "nothere"}}), R"({"status":"success","data":{}})");
}

TEST(SeriesMetadataTest, HistogramAndSummarySeriesListUnderTheirFamily) {
  TestQueryable storage({
      {model::Labels{{"__name__", "lat_seconds_bucket"}, {"le", "0.1"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "lat_seconds_bucket"}, {"le", "+Inf"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "lat_seconds_count"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "lat_seconds_sum"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "rpc"}, {"quantile", "0.5"}}, {{1000, 1}}},
      {model::Labels{{"__name__", "rpc_count"}}, {{1000, 1}}},
      // A counter that happens to end in _count keeps its name.
      {model::Labels{{"__name__", "jobs_count"}}, {{1000, 1}}},
  });
  auto lookup = [](const model::Labels& ls, model::Metadata* md) {
    const std::string_view n = ls.MetricName();
    if (n.starts_with("lat_seconds")) {
      *md = {model::MetricType::kHistogram, "Latency.", "seconds"};
    } else if (n.starts_with("rpc")) {
      *md = {model::MetricType::kSummary, "RPCs.", ""};
    } else {
      *md = {model::MetricType::kCounter, "Jobs.", ""};
    }
    return true;
  };
  SeriesMetadataSource source(&storage, lookup);
  auto all = source.Metadata("");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all["lat_seconds"].size(), 1u);
  EXPECT_EQ(all["rpc"].size(), 1u);
  EXPECT_EQ(all["jobs_count"].size(), 1u);

  auto one = source.Metadata("lat_seconds");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one["lat_seconds"][0].type, model::MetricType::kHistogram);
  EXPECT_TRUE(source.Metadata("lat_seconds_bucket").empty());  // a series, not a family
  EXPECT_EQ(source.Metadata("jobs_count").size(), 1u);
  EXPECT_TRUE(source.Metadata("jobs").empty());  // counters add no suffix

  EXPECT_EQ(SeriesMetadataSource::FamilyName("x_bucket", model::MetricType::kGaugeHistogram), "x");
  EXPECT_EQ(SeriesMetadataSource::FamilyName("x_gsum", model::MetricType::kGaugeHistogram), "x");
  EXPECT_EQ(SeriesMetadataSource::FamilyName("_sum", model::MetricType::kSummary), "_sum");
}

}  // namespace
}  // namespace kiln::web::api::v1
