// Federation over in-memory series, and GET /federate through a real Server on 127.0.0.1.
// Byte-for-byte agreement with Prometheus 2.42 is tests/web_federate_test.py.
#include "web/federate/federate.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "pkg/model/value.h"
#include "web/api/v1/test_storage.h"

namespace kiln::web::federate {
namespace {

using api::v1::TestQueryable;
using api::v1::TestSeries;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kLookback = 5 * 60 * 1000;

Logger QuietLogger() {
  static int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return Logger(LogLevel::kInfo, Logger::Format::kLogfmt, fd);
}

TestQueryable Fixture() {
  const double inf = std::numeric_limits<double>::infinity();
  return TestQueryable({
      {{{"__name__", "a"}, {"job", "j1"}}, {{kNow - 20000, 1}, {kNow - 10000, 2.5}}},
      {{{"__name__", "a"}, {"instance", "i1"}, {"job", "j1"}}, {{kNow - 10000, std::nan("")}}},
      {{{"__name__", "b"}, {"dc", "mine"}, {"zz", "q\"uo\\te\nnl"}}, {{kNow - 1, 1e21}}},
      {{{"__name__", "c_stale"}, {"job", "j"}},
       {{kNow - 20000, 3}, {kNow - 10000, model::StaleNaN()}}},
      {{{"__name__", "d_old"}, {"job", "j"}}, {{kNow - kLookback - 1, 3}}},
      {{{"__name__", "e"}, {"job", "j"}}, {{kNow - 1000, inf}}},
      {{{"__name__", "e"}, {"job", "k"}}, {{kNow - 1000, -0.0}}},
      {{{"__name__", "f"}, {"job", "k"}}, {{kNow - 1000, 1234567}}},
      {{{"__name__", "f"}, {"job", "l"}}, {{kNow - 1000, 0.000012}, {kNow + 5000, 9}}},
      {{{"job", "nameless"}}, {{kNow - 1000, 1}}},
  });
}

TEST(FederationTest, LatestSamplesGroupedByNameWithExternalLabels) {
  TestQueryable q = Fixture();
  Federation f(&q, kLookback, QuietLogger());
  f.SetExternalLabels({{"dc", "east"}, {"zone", "z1"}});
  Federation::Response r = f.Serve({"{__name__=~\".+\"}"}, "", kNow);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  // Expected text written out by hand from Prometheus 2.42's answer to the same series.
  EXPECT_EQ(
      r.body,
      "# TYPE a untyped\n"
      "a{instance=\"i1\",job=\"j1\",dc=\"east\",zone=\"z1\"} NaN 1699999990000\n"
      "a{job=\"j1\",dc=\"east\",instance=\"\",zone=\"z1\"} 2.5 1699999990000\n"
      "# TYPE b untyped\n"
      "b{dc=\"mine\",zz=\"q\\\"uo\\\\te\\nnl\",instance=\"\",zone=\"z1\"} 1e+21 1699999999999\n"
      "# TYPE e untyped\n"
      "e{job=\"j\",dc=\"east\",instance=\"\",zone=\"z1\"} +Inf 1699999999000\n"
      "e{job=\"k\",dc=\"east\",instance=\"\",zone=\"z1\"} 0 1699999999000\n"
      "# TYPE f untyped\n"
      "f{job=\"k\",dc=\"east\",instance=\"\",zone=\"z1\"} 1.234567e+06 1699999999000\n"
      "f{job=\"l\",dc=\"east\",instance=\"\",zone=\"z1\"} 1.2e-05 1699999999000\n");
}

TEST(FederationTest, SelectorsAreAUnion) {
  TestQueryable q = Fixture();
  Federation f(&q, kLookback, QuietLogger());
  Federation::Response r = f.Serve({"a", "{job=\"j1\"}", "e{job=\"k\"}"}, "", kNow);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "# TYPE a untyped\n"
            "a{instance=\"i1\",job=\"j1\"} NaN 1699999990000\n"
            "a{job=\"j1\",instance=\"\"} 2.5 1699999990000\n"
            "# TYPE e untyped\n"
            "e{job=\"k\",instance=\"\"} 0 1699999999000\n");
}

TEST(FederationTest, ExternalInstanceLabelReplacesTheEmptyOne) {
  TestQueryable q = Fixture();
  Federation f(&q, kLookback, QuietLogger());
  f.SetExternalLabels({{"instance", "fed"}});
  EXPECT_EQ(f.Serve({"a"}, "", kNow).body,
            "# TYPE a untyped\n"
            "a{instance=\"i1\",job=\"j1\"} NaN 1699999990000\n"
            "a{job=\"j1\",instance=\"fed\"} 2.5 1699999990000\n");
}

TEST(FederationTest, NothingSelected) {
  TestQueryable q = Fixture();
  Federation f(&q, kLookback, QuietLogger());
  for (const std::vector<std::string>& m :
       std::vector<std::vector<std::string>>{{}, {"{}"}, {"c_stale"}, {"d_old"}, {"nope"}}) {
    Federation::Response r = f.Serve(m, "", kNow);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "") << (m.empty() ? "" : m[0]);
  }
  // The lookback window moves with now: d_old is in it a second earlier.
  EXPECT_NE(f.Serve({"d_old"}, "", kNow - 1000).body, "");
}

TEST(FederationTest, BadSelectorIs400) {
  TestQueryable q = Fixture();
  Federation f(&q, kLookback, QuietLogger());
  Federation::Response r = f.Serve({"a", "a{"}, "", kNow);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "1:3: parse error: unexpected end of input inside braces\n");
}

// Storage that cannot open a querier, to see the error path and its metric.
class BrokenQueryable final : public storage::Queryable {
 public:
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t, int64_t) override {
    return Status::IOError("disk on fire");
  }
};

TEST(FederationTest, StorageErrorIs500AndCounted) {
  BrokenQueryable q;
  prometheus::Registry registry;
  Federation f(&q, kLookback, QuietLogger(), &registry);
  Federation::Response r = f.Serve({"a"}, "", kNow);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "disk on fire\n");
  double errors = -1, warnings = -1;
  for (const auto& fam : registry.Collect()) {
    if (fam.name == "prometheus_web_federation_errors_total") {
      errors = fam.metric.at(0).counter.value;
    }
    if (fam.name == "prometheus_web_federation_warnings_total") {
      warnings = fam.metric.at(0).counter.value;
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(warnings, 0);
}

TEST(FederationTest, OverHttpWithRoutePrefix) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  TestQueryable q({{{{"__name__", "f"}, {"job", "k"}}, {{now - 1000, 42}}}});
  Federation f(&q, kLookback, QuietLogger());
  Server::Options o;
  o.listen_address = "127.0.0.1:0";
  o.route_prefix = "/prom";
  Server server(o, QuietLogger());
  RegisterFederate(&server, &f);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());

  auto r = c.Get("/prom/federate?match[]=e");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);  // not ready yet, as Prometheus during startup
  server.SetReady(true);
  r = c.Get("/prom/federate?match[]=nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  r = c.Get("/prom/federate?match[]=%7B__name__%3D~%22.%2B%22%7D");  // {__name__=~".+"}
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body,
            "# TYPE f untyped\nf{job=\"k\",instance=\"\"} 42 " + std::to_string(now - 1000) + "\n");
  r = c.Get("/prom/federate?match[]=a%7B");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "1:3: parse error: unexpected end of input inside braces\n");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  r = c.Get("/federate?match[]=e");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Post("/prom/federate", "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  server.Stop();
}

}  // namespace
}  // namespace kiln::web::federate
