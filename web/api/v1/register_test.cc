// RegisterApiV1 on a real pkg/web Server on 127.0.0.1: routing with a route prefix, path
// params, GET and form-encoded POST (body values win over the URL's), gzip, 404/405.
#include "web/api/v1/register.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "web/api/v1/test_storage.h"

namespace kiln::web::api::v1 {
namespace {

class RegisterTest : public ::testing::Test {
 protected:
  RegisterTest()
      : storage_({{model::Labels{{"__name__", "up"}, {"job", "a/b"}}, {{1000, 1}}},
                  {model::Labels{{"__name__", "up"}, {"job", "c"}}, {{1000, 0}}}}),
        server_(Server::Options{"127.0.0.1:0", "/prefix", 2, 8}, Logger(LogLevel::kError)) {
    ApiDeps deps;
    deps.queryable = &storage_;
    RegisterApiV1(&server_, deps);
    server_.SetReady(true);
    EXPECT_TRUE(server_.Start().ok());
  }

  httplib::Client Client() { return httplib::Client("127.0.0.1", server_.port()); }

  TestQueryable storage_;
  Server server_;
};

TEST_F(RegisterTest, GetPostAndPathParams) {
  auto c = Client();
  auto res = c.Get("/prefix/api/v1/label/job/values");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->body, R"({"status":"success","data":["a/b","c"]})");

  res = c.Get("/prefix/api/v1/series?match%5B%5D=up%7Bjob%3D%22c%22%7D");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"status":"success","data":[{"__name__":"up","job":"c"}]})");

  // Grafana POSTs form bodies; a body value takes precedence over the URL's.
  res = c.Post("/prefix/api/v1/series?match%5B%5D=nothing&limit=x", "match%5B%5D=up&limit=1",
               "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, R"({"status":"success","data":[{"__name__":"up","job":"a/b"}],)"
                       R"("warnings":["results truncated due to limit"]})");
}

TEST_F(RegisterTest, ErrorsAndUnknownRoutes) {
  auto c = Client();
  auto res = c.Get("/prefix/api/v1/series");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body,
            R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
  res = c.Get("/prefix/api/v1/nothere");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = c.Get("/prefix/api/v1/admin/tsdb/snapshot");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = c.Post("/prefix/api/v1/admin/tsdb/snapshot", "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body,
            R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
}

// Prometheus's preflight and CORS headers (checked against 2.42): OPTIONS anywhere under
// /api/v1 is 204; headers only for requests with an Origin; the default ".*" allows "*".
TEST_F(RegisterTest, OptionsAndCorsDefault) {
  auto c = Client();
  auto res = c.Options("/prefix/api/v1/query");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  res = c.Options("/prefix/api/v1/no/such/endpoint", {{"Origin", "http://x"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Headers"),
            "Accept, Authorization, Content-Type, Origin");
  EXPECT_EQ(res->get_header_value("Access-Control-Expose-Headers"), "Date");
  EXPECT_EQ(res->get_header_value("Vary"), "Origin");
  res = c.Get("/prefix/api/v1/labels", {{"Origin", "http://x"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
  res = c.Get("/prefix/api/v1/labels");
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->has_header("Vary"));
  // The catch-all OPTIONS route does not turn unknown paths into 405s.
  res = c.Get("/prefix/api/v1/nothere");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = c.Delete("/prefix/api/v1/labels");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, OPTIONS, POST");
}

TEST(RegisterCorsTest, OriginRegexIsAnchoredAndEchoed) {
  TestQueryable storage(std::vector<TestSeries>{});
  Server server(Server::Options{"127.0.0.1:0", "", 2, 8}, Logger(LogLevel::kError));
  ApiDeps deps;
  deps.queryable = &storage;
  deps.cors_origin = "https?://(a|b)\\.example";
  RegisterApiV1(&server, deps);
  server.SetReady(true);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto res = c.Get("/api/v1/labels", {{"Origin", "https://b.example"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://b.example");
  EXPECT_EQ(res->get_header_value("Vary"), "Origin");
  for (const char* other : {"https://c.example", "https://a.example.evil", "xhttps://a.example"}) {
    res = c.Options("/api/v1/query", {{"Origin", other}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204);
    EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin")) << other;
    EXPECT_EQ(res->get_header_value("Vary"), "Origin");
  }
}

TEST_F(RegisterTest, LargeResponsesStreamAndGzip) {
  std::vector<TestSeries> many;
  for (int i = 0; i < 20000; ++i) {
    many.push_back({model::Labels{{"__name__", "m"}, {"i", std::to_string(i)}}, {{1000, 1}}});
  }
  storage_ = TestQueryable(std::move(many));
  auto c = Client();
  c.set_decompress(true);
  httplib::Headers h = {{"Accept-Encoding", "gzip"}};
  auto res = c.Get("/prefix/api/v1/series?match%5B%5D=m", h);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["data"].size(), 20000u);
}

}  // namespace
}  // namespace kiln::web::api::v1
