// Handler tests without a socket: requests built by hand, answers compared with the JSON
// Prometheus 2.42 gives for the same data and parameters.
#include "web/api/v1/api.h"

#include <gtest/gtest.h>

#include <cmath>

#include "promql/engine.h"
#include "web/api/v1/engine_adapter.h"
#include "web/api/v1/params.h"
#include "web/api/v1/test_storage.h"

namespace kiln::web::api::v1 {
namespace {

std::vector<TestSeries> Data() {
  return {
      {model::Labels{{"__name__", "up"}, {"instance", "a:1"}, {"job", "api"}},
       {{1000, 1}, {2000, 1}}},
      {model::Labels{{"__name__", "up"}, {"instance", "b:1"}, {"job", "db"}},
       {{1000, 0}, {2000, NAN}}},
      {model::Labels{{"__name__", "http_total"}, {"code", "<500>"}, {"job", "api"}}, {{1500, 7}}},
      {model::Labels{{"__name__", "late"}, {"job", "batch"}}, {{100000000, 3}}},
  };
}

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : storage_(Data()), engine_(promql::EngineOptions{}), adapter_(&engine_, &storage_) {
    deps_.queryable = &storage_;
    deps_.engine = &adapter_;
    deps_.now_ms = [] { return int64_t{2000}; };
    deps_.build_info = {"3.0.0", "abc", "main", "me@host", "20240101-00:00:00", "g++ 12"};
  }

  ApiResponse Get(std::string_view path, std::vector<Param> form = {}, std::string method = "GET") {
    ApiRequest r;
    r.method = std::move(method);
    r.form = std::move(form);
    return Api(deps_).Handle(path, std::move(r));
  }
  std::string Body(std::string_view path, std::vector<Param> form = {}) {
    return Get(path, std::move(form)).BodyString();
  }

  TestQueryable storage_;
  promql::Engine engine_;
  PromqlQueryEngine adapter_;
  ApiDeps deps_;
};

TEST_F(ApiTest, LabelNamesAndValues) {
  EXPECT_EQ(Body("/labels"), R"({"status":"success","data":["__name__","code","instance","job"]})");
  EXPECT_EQ(Body("/labels", {{"match[]", "up"}}),
            R"({"status":"success","data":["__name__","instance","job"]})");
  EXPECT_EQ(Body("/labels", {{"match[]", "http_total"}, {"match[]", R"({job="db"})"}}),
            R"({"status":"success","data":["__name__","code","instance","job"]})");
  EXPECT_EQ(Body("/labels", {{"start", "50000"}}),
            R"({"status":"success","data":["__name__","job"]})");
  EXPECT_EQ(Body("/label/job/values"), R"({"status":"success","data":["api","batch","db"]})");
  EXPECT_EQ(Body("/label/job/values", {{"match[]", "up"}, {"limit", "1"}}),
            R"({"status":"success","data":["api"],"warnings":["results truncated due to limit"]})");
  EXPECT_EQ(Body("/label/U__c_6f_de/values"), R"({"status":"success","data":["\u003c500\u003e"]})");
  EXPECT_EQ(Body("/label/nothere/values"), R"({"status":"success","data":[]})");
}

TEST_F(ApiTest, MetadataErrors) {
  auto res = Get("/labels", {{"start", "foo"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.BodyString(),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": )"
            R"(Invalid time value for 'start': cannot parse \"foo\" to a valid timestamp"})");
  EXPECT_EQ(
      Body("/labels", {{"match[]", R"({a=""})"}}),
      R"({"status":"error","errorType":"bad_data","error":"match[] must contain at least one non-empty matcher"})");
  EXPECT_EQ(
      Body("/label/job/values", {{"limit", "x"}}),
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"})");
  EXPECT_EQ(Body("/series"),
            R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
  EXPECT_EQ(
      Body("/series", {{"match[]", R"({a=~".*"})"}}),
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"})");
  EXPECT_EQ(Body("/label/U__/values"),
            R"({"status":"error","errorType":"bad_data","error":"invalid label name: \"\""})");
}

TEST_F(ApiTest, Series) {
  EXPECT_EQ(Body("/series", {{"match[]", "up"}, {"match[]", R"({job="api"})"}}),
            R"({"status":"success","data":[)"
            R"({"__name__":"http_total","code":"\u003c500\u003e","job":"api"},)"
            R"({"__name__":"up","instance":"a:1","job":"api"},)"
            R"({"__name__":"up","instance":"b:1","job":"db"}]})");
  EXPECT_EQ(Body("/series", {{"match[]", "up"}, {"limit", "1"}}),
            R"({"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"}],)"
            R"("warnings":["results truncated due to limit"]})");
  EXPECT_EQ(Body("/series", {{"match[]", "up"}, {"end", "0.5"}}),
            R"({"status":"success","data":[]})");
}

TEST_F(ApiTest, InstantQueries) {
  EXPECT_EQ(Body("/query", {{"query", "1+1"}, {"time", "4"}}),
            R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  EXPECT_EQ(Body("/query", {{"query", R"("a<b")"}, {"time", "1"}}),
            R"({"status":"success","data":{"resultType":"string","result":[1,"a\u003cb"]}})");
  EXPECT_EQ(Body("/query", {{"query", "up"}}),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[2,"1"]},)"
            R"({"metric":{"__name__":"up","instance":"b:1","job":"db"},"value":[2,"NaN"]}]}})");
  EXPECT_EQ(Body("/query", {{"query", "up"}, {"limit", "1"}, {"time", "1"}}),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[1,"1"]}]},)"
            R"("warnings":["results truncated due to limit"]})");
  EXPECT_EQ(Body("/query", {{"query", "up[1s]"}, {"time", "2"}}),
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"values":[[2,"1"]]},)"
            R"({"metric":{"__name__":"up","instance":"b:1","job":"db"},"values":[[2,"NaN"]]}]}})");
}

TEST_F(ApiTest, RangeQueries) {
  EXPECT_EQ(Body("/query_range", {{"query", "1"}, {"start", "1"}, {"end", "3"}, {"step", "1"}}),
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{},"values":[[1,"1"],[2,"1"],[3,"1"]]}]}})");
  EXPECT_EQ(
      Body("/query_range", {{"query", "sum(up)"}, {"start", "1"}, {"end", "2"}, {"step", "500ms"}}),
      R"({"status":"success","data":{"resultType":"matrix","result":[)"
      R"({"metric":{},"values":[[1,"1"],[1.500,"1"],[2,"NaN"]]}]}})");
}

TEST_F(ApiTest, QueryErrors) {
  struct Case {
    std::vector<Param> form;
    std::string path, error;
    int status = 400;
  } cases[] = {
      {{{"query", "1"}, {"time", "foo"}},
       "/query",
       R"(invalid parameter \"time\": Invalid time value for 'time': cannot parse \"foo\" to a valid timestamp)"},
      {{{"query", "1"}, {"timeout", "x"}},
       "/query",
       R"(invalid parameter \"timeout\": cannot parse \"x\" to a valid duration)"},
      {{{"query", "1"}},
       "/query_range",
       R"(invalid parameter \"start\": cannot parse \"\" to a valid timestamp)"},
      {{{"query", "1"}, {"start", "1"}, {"end", "foo"}},
       "/query_range",
       R"(invalid parameter \"end\": cannot parse \"foo\" to a valid timestamp)"},
      {{{"query", "1"}, {"start", "10"}, {"end", "1"}, {"step", "1"}},
       "/query_range",
       R"(invalid parameter \"end\": end timestamp must not be before start time)"},
      {{{"query", "1"}, {"start", "1"}, {"end", "2"}},
       "/query_range",
       R"(invalid parameter \"step\": cannot parse \"\" to a valid duration)"},
      {{{"query", "1"}, {"start", "0"}, {"end", "1"}, {"step", "0"}},
       "/query_range",
       R"(invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer)"},
      {{{"query", "1"}, {"start", "0"}, {"end", "100000"}, {"step", "1"}},
       "/query_range",
       "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
       "resolution (?step=XX)"},
      {{{"query", "1+"}},
       "/query",
       R"(invalid parameter \"query\": 1:3: parse error: unexpected end of input)"},
      {{{"query", "rate(x)"}},
       "/query",
       R"(invalid parameter \"query\": 1:6: parse error: expected type range vector in call to function \"rate\", got instant vector)"},
      {{{"query", "1"}, {"limit", "-1"}},
       "/query",
       R"(invalid parameter \"limit\": limit must be non-negative)"},
      {{{"query", "1"}, {"lookback_delta", "x"}},
       "/query",
       R"(error parsing lookback delta duration: cannot parse \"x\" to a valid duration)"},
  };
  for (const auto& c : cases) {
    auto res = Get(c.path, c.form);
    EXPECT_EQ(res.status, c.status) << c.error;
    EXPECT_EQ(res.BodyString(),
              R"({"status":"error","errorType":"bad_data","error":")" + c.error + R"("})");
  }
  // Exactly 11,000 points is still allowed.
  EXPECT_EQ(
      Get("/query_range", {{"query", "1"}, {"start", "0"}, {"end", "11000"}, {"step", "1"}}).status,
      200);
}

TEST_F(ApiTest, TimeoutParameterStopsTheQuery) {
  // 3.6M subquery steps take far longer than 10ms.
  auto res = Get("/query", {{"query", "count_over_time(vector(1)[1h:1ms])"}, {"timeout", "0.01"}});
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.BodyString(), R"({"status":"error","errorType":"timeout",)"
                              R"("error":"query timed out in query execution"})");
  // A generous timeout does not disturb a quick query.
  EXPECT_EQ(Get("/query", {{"query", "1"}, {"timeout", "30s"}}).status, 200);
}

class FakeEngine : public QueryEngine {
 public:
  Result<QueryResult> Exec(const QueryRequest& req) override {
    last = req;
    if (!error.ok()) return error;
    return result;
  }
  QueryRequest last;
  Status error;
  QueryResult result;
};

TEST_F(ApiTest, EngineSeam) {
  FakeEngine fake;
  deps_.engine = &fake;
  fake.result.value = promql::Scalar{1000, 1};
  fake.result.warnings = {"PromQL warning: w (1:1)"};
  fake.result.infos = {"PromQL info: i"};
  fake.result.stats.peak_samples = 7;
  EXPECT_EQ(Body("/query", {{"query", "q"},
                            {"time", "1"},
                            {"stats", "all"},
                            {"timeout", "1m"},
                            {"lookback_delta", "30s"}}),
            R"({"status":"success","data":{"resultType":"scalar","result":[1,"1"],"stats":)"
            R"({"timings":{"evalTotalTime":0,"resultSortTime":0,"queryPreparationTime":0,)"
            R"("innerEvalTime":0,"execQueueTime":0,"execTotalTime":0},"samples":)"
            R"({"totalQueryableSamplesPerStep":[],"totalQueryableSamples":0,"peakSamples":7}}},)"
            R"x("warnings":["PromQL warning: w (1:1)"],"infos":["PromQL info: i"]})x");
  EXPECT_EQ(fake.last.query, "q");
  EXPECT_EQ(fake.last.timeout_ms, 60000);
  EXPECT_EQ(fake.last.lookback_delta_ms, 30000);
  EXPECT_TRUE(fake.last.per_step_stats);

  Body("/query_range", {{"query", "q"}, {"start", "10"}, {"end", "20"}, {"step", "2.5"}});
  EXPECT_EQ(fake.last.start_ms, 10000);
  EXPECT_EQ(fake.last.end_ms, 20000);
  EXPECT_EQ(fake.last.interval_ms, 2500);

  struct Case {
    Status error;
    int http;
    const char* type;
  } cases[] = {{Status::Execution("boom"), 422, "execution"},
               {Status::Canceled("boom"), 499, "canceled"},
               {Status::Timeout("boom"), 503, "timeout"},
               {Status::Internal("boom"), 500, "internal"},
               {Status::NotFound("boom"), 404, "not_found"}};
  for (const auto& c : cases) {
    fake.error = c.error;
    auto res = Get("/query", {{"query", "q"}});
    EXPECT_EQ(res.status, c.http);
    EXPECT_EQ(res.BodyString(),
              std::string(R"({"status":"error","errorType":")") + c.type + R"(","error":"boom"})");
  }
}

TEST_F(ApiTest, ExemplarsFormatAndParse) {
  // Grafana's probe sends milliseconds where seconds belong; it must still succeed.
  EXPECT_EQ(Body("/query_exemplars",
                 {{"query", "up"}, {"start", "1600000000000"}, {"end", "1600000001000"}}),
            R"({"status":"success","data":[]})");
  EXPECT_EQ(Get("/query_exemplars", {{"query", "1+1"}}).status, 204);
  EXPECT_EQ(Body("/format_query", {{"query", "sum(up)by(job)"}}),
            R"x({"status":"success","data":"sum by (job) (up)"})x");
  EXPECT_EQ(
      Body("/parse_query", {{"query", "-up{job!=\"x\"} offset 1m"}}),
      R"({"status":"success","data":{"expr":{"anchored":false,"matchers":[)"
      R"({"name":"job","type":"!=","value":"x"},{"name":"__name__","type":"=","value":"up"}],)"
      R"("name":"up","offset":60000,"smoothed":false,"startOrEnd":null,"timestamp":null,)"
      R"("type":"vectorSelector"},"op":"-","type":"unaryExpr"}})");
}

TEST_F(ApiTest, StatusPages) {
  EXPECT_EQ(Body("/status/buildinfo"),
            R"({"status":"success","data":{"version":"3.0.0","revision":"abc","branch":"main",)"
            R"("buildUser":"me@host","buildDate":"20240101-00:00:00","goVersion":"g++ 12"}})");
  EXPECT_EQ(Body("/status/tsdb"),
            R"({"status":"success","data":{"headStats":{"numSeries":0,"numLabelPairs":0,)"
            R"("chunkCount":0,"minTime":9223372036854775807,"maxTime":-9223372036854775808},)"
            R"("seriesCountByMetricName":[],"labelValueCountByLabelName":[],)"
            R"("memoryInBytesByLabelName":[],"seriesCountByLabelValuePair":[]}})");
  EXPECT_EQ(Body("/status/walreplay"),
            R"({"status":"success","data":{"min":0,"max":0,"current":0}})");
  EXPECT_EQ(Body("/targets"),
            R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[]}})");
  EXPECT_EQ(Body("/rules"), R"({"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(Body("/alerts"), R"({"status":"success","data":{"alerts":[]}})");
  EXPECT_EQ(Body("/alertmanagers"),
            R"({"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}})");
  EXPECT_EQ(Body("/scrape_pools"), R"({"status":"success","data":{"scrapePools":[]}})");
  EXPECT_EQ(Body("/metadata"), R"({"status":"success","data":{}})");
  EXPECT_EQ(Body("/metadata", {{"limit", "x"}}),
            R"({"status":"error","errorType":"bad_data","error":"limit must be a number"})");
  EXPECT_EQ(Body("/targets/metadata"), R"({"status":"success","data":[]})");
}

TEST_F(ApiTest, RoutingAndAdmin) {
  auto res = Get("/nothere");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, "404 page not found\n");
  EXPECT_EQ(Get("/admin/tsdb/snapshot").status, 405);
  EXPECT_EQ(Get("/labels", {}, "POST").status, 200);
  EXPECT_EQ(Get("/series", {{"match[]", "up"}}, "DELETE").BodyString(),
            R"({"status":"error","errorType":"internal","error":"not implemented"})");
  EXPECT_EQ(Get("/query_exemplars", {{"query", "up"}, {"start", "10"}, {"end", "1"}}).BodyString(),
            R"({"status":"error","errorType":"bad_data",)"
            R"("error":"end timestamp must not be before start timestamp"})");
  EXPECT_EQ(Get("/status/buildinfo", {}, "HEAD").status, 405);  // Prometheus 2.42 too
  res = Get("/admin/tsdb/delete_series", {}, "POST");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.BodyString(),
            R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
}

class FakeAdmin : public TsdbAdmin {
 public:
  Result<std::string> Snapshot(bool skip_head) override {
    skipped = skip_head;
    return std::string("20171210T211224Z-2be650b6d019eb54");
  }
  Status DeleteSeries(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& ms) override {
    deleted.push_back({mint, maxt, ms.size()});
    return Status::OK();
  }
  Status CleanTombstones() override { return Status::IOError("disk on fire"); }
  bool skipped = false;
  std::vector<std::tuple<int64_t, int64_t, size_t>> deleted;
};

TEST_F(ApiTest, AdminEnabled) {
  FakeAdmin admin;
  deps_.admin = &admin;
  EXPECT_EQ(Get("/admin/tsdb/snapshot", {{"skip_head", "true"}}, "POST").BodyString(),
            R"({"status":"success","data":{"name":"20171210T211224Z-2be650b6d019eb54"}})");
  EXPECT_TRUE(admin.skipped);
  EXPECT_EQ(Get("/admin/tsdb/snapshot", {{"skip_head", "x"}}, "PUT").BodyString(),
            R"({"status":"error","errorType":"bad_data","error":"unable to parse boolean )"
            R"('skip_head' argument: strconv.ParseBool: parsing \"x\": invalid syntax"})");
  auto res = Get("/admin/tsdb/delete_series", {{"match[]", "up"}, {"start", "1"}}, "POST");
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.BodyString(), "");
  ASSERT_EQ(admin.deleted.size(), 1u);
  EXPECT_EQ(std::get<0>(admin.deleted[0]), 1000);
  EXPECT_EQ(std::get<1>(admin.deleted[0]), kApiMaxTimeMs);
  EXPECT_EQ(Get("/admin/tsdb/delete_series", {}, "POST").status, 400);
  EXPECT_EQ(Get("/admin/tsdb/clean_tombstones", {}, "POST").BodyString(),
            R"({"status":"error","errorType":"internal","error":"disk on fire"})");
}

}  // namespace
}  // namespace kiln::web::api::v1
