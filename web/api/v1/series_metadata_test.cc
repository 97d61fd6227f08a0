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

}  // namespace
}  // namespace kiln::web::api::v1
