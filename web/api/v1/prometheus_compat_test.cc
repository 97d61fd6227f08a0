// Compares the API's answers with a real Prometheus 2.42 holding the same data: both get
// the same series (Prometheus over remote_write, Kiln's handlers through an in-memory
// Queryable and Kiln's PromQL engine), then the same requests. Bodies must be equal as JSON
// and, since both print JSON the same way, byte for byte.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <snappy.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "pkg/prompb/remote.pb.h"
#include "promql/engine.h"
#include "web/api/v1/api.h"
#include "web/api/v1/engine_adapter.h"
#include "web/api/v1/test_storage.h"

namespace kiln::web::api::v1 {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";

// A port the kernel just handed out, free again once the probe socket is closed.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// A Prometheus 2.42 process on a free port with its own data directory.
class PrometheusProcess {
 public:
  bool Start() {
    dir_ = std::filesystem::temp_directory_path() / ("kiln_api_compat_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "prometheus.yml") << "global:\n  scrape_interval: 15s\n";
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string cfg = "--config.file=" + (dir_ / "prometheus.yml").string();
      const std::string data = "--storage.tsdb.path=" + (dir_ / "data").string();
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      freopen((dir_ / "log.txt").c_str(), "w", stderr);
      execl(kPrometheus, kPrometheus, cfg.c_str(), data.c_str(), listen.c_str(),
            "--web.enable-remote-write-receiver", static_cast<char*>(nullptr));
      _exit(127);
    }
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1);
    c.set_read_timeout(5);
    for (int i = 0; i < 200; ++i) {
      auto res = c.Get("/-/ready");
      if (res && res->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  int port() const { return port_; }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Label values with characters JSON escapes differently across encoders, and values that
// stress float formatting. No sample sits on a step or window boundary, where Prometheus
// 2.x's closed and Kiln's (3.x's) left-open lookback windows differ.
std::vector<TestSeries> Dataset(int64_t base) {
  std::vector<TestSeries> out;
  const char* paths[] = {"/a<b>&c", "/caf\xc3\xa9", "/q\"uote\\", "/plain"};
  const double values[] = {1.5, 1e-7, 1e21, -INFINITY, 0.1, 123456789.125};
  for (int p = 0; p < 4; ++p) {
    for (int inst = 0; inst < 2; ++inst) {
      TestSeries s;
      s.labels = model::Labels{{"__name__", "http_requests_total"},
                               {"instance", "host-" + std::to_string(inst) + ":9100"},
                               {"job", "api"},
                               {"path", paths[p]}};
      for (int i = 0; i < 60; ++i) {
        s.samples.push_back({base + i * 15000 + 7 * p + inst + 3, double(i * (p + 1) + inst)});
      }
      out.push_back(std::move(s));
    }
  }
  TestSeries g;
  g.labels = model::Labels{{"__name__", "odd_values"}, {"job", "batch"}};
  for (int i = 0; i < 6; ++i) g.samples.push_back({base + i * 60000 + 500, values[i]});
  out.push_back(std::move(g));
  TestSeries n;
  n.labels = model::Labels{{"__name__", "with_nan"}, {"job", "batch"}, {"le", "+Inf"}};
  n.samples = {{base + 250, NAN}, {base + 60250, 2}};
  out.push_back(std::move(n));
  return out;
}

bool RemoteWrite(int port, const std::vector<TestSeries>& data) {
  prompb::WriteRequest req;
  for (const auto& s : data) {
    auto* ts = req.add_timeseries();
    for (const auto& l : s.labels) {
      auto* lp = ts->add_labels();
      lp->set_name(std::string(l.name));
      lp->set_value(std::string(l.value));
    }
    for (const auto& smp : s.samples) {
      auto* sp = ts->add_samples();
      sp->set_timestamp(smp.t);
      sp->set_value(smp.v);
    }
  }
  std::string compressed;
  snappy::Compress(req.SerializeAsString().data(), req.ByteSizeLong(), &compressed);
  httplib::Client c("127.0.0.1", port);
  httplib::Headers h = {{"Content-Encoding", "snappy"},
                        {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  auto res = c.Post("/api/v1/write", h, compressed, "application/x-protobuf");
  return res && res->status == 204;
}

std::string Seconds(int64_t ms) {
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 + 1000).substr(1);
}

TEST(PrometheusCompatTest, SameAnswersAsPrometheus) {
  if (access(kPrometheus, X_OK) != 0) GTEST_SKIP() << "no " << kPrometheus;
  PrometheusProcess prom;
  ASSERT_TRUE(prom.Start()) << "Prometheus did not become ready";
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t base = now / 60000 * 60000 - 30 * 60000;
  const auto data = Dataset(base);
  ASSERT_TRUE(RemoteWrite(prom.port(), data));

  TestQueryable storage(data);
  promql::Engine engine{promql::EngineOptions{}};
  PromqlQueryEngine adapter(&engine, &storage);
  ApiDeps deps;
  deps.queryable = &storage;
  deps.engine = &adapter;
  const Api api(deps);

  const std::string t0 = Seconds(base), t10 = Seconds(base + 10 * 60000),
                    t20 = Seconds(base + 20 * 60000), tend = Seconds(base + 16 * 60000);
  struct Case {
    std::string path;
    std::vector<Param> form;
  } cases[] = {
      {"/labels", {}},
      {"/labels", {{"match[]", "odd_values"}}},
      {"/labels", {{"match[]", "odd_values"}, {"match[]", "with_nan"}}},
      {"/labels", {{"match[]", R"({a=""})"}}},
      {"/label/path/values", {}},
      {"/label/__name__/values", {}},
      {"/label/job/values", {{"match[]", "with_nan"}}},
      {"/label/nonexistent/values", {}},
      {"/series", {{"match[]", "http_requests_total"}}},
      {"/series", {{"match[]", R"({job="batch"})"}, {"match[]", R"({path=~"/q.*"})"}}},
      {"/series", {{"match[]", "odd_values"}, {"start", t0}, {"end", t10}}},
      {"/series", {{"match[]", "http_requests_total"}, {"end", "1000"}}},
      {"/label/instance/values", {{"start", t0}, {"end", t10}}},
      {"/series", {}},
      {"/series", {{"match[]", R"({a=~".*"})"}}},
      {"/series", {{"match[]", "up"}, {"start", "foo"}}},
      {"/query", {{"query", "odd_values"}, {"time", t20}}},
      {"/query", {{"query", R"(http_requests_total{path="/a<b>&c"})"}, {"time", t10}}},
      {"/query", {{"query", "with_nan"}, {"time", Seconds(base + 1000)}}},
      {"/query", {{"query", "sum by (path) (http_requests_total)"}, {"time", t10}}},
      {"/query", {{"query", "rate(http_requests_total[5m])"}, {"time", t10}}},
      {"/query", {{"query", "odd_values[3m]"}, {"time", t10}}},
      {"/query", {{"query", "1+1"}, {"time", "4"}}},
      {"/query", {{"query", "odd_values"}, {"time", Seconds(base + 10 * 60000 + 123)}}},
      {"/query", {{"query", "timestamp(odd_values)"}, {"time", t20}}},
      // Upstream prints milliseconds as three digits: 1.900, 1.040 (not 1.9, 1.04).
      {"/query", {{"query", "odd_values"}, {"time", Seconds(base + 10 * 60000 + 900)}}},
      {"/query", {{"query", "with_nan"}, {"time", Seconds(base + 60000 + 40)}}},
      {"/query", {{"query", "count_values(\"v\", odd_values)"}, {"time", Seconds(base + 200000)}}},
      {"/query", {{"query", "http_requests_total offset 5m"}, {"time", t20}}},
      {"/query", {{"query", R"("a<b")"}, {"time", "1435781451.781"}}},
      {"/query", {{"query", "1"}, {"time", "2015-07-01T20:10:51.781+02:00"}}},
      {"/query", {{"query", "1"}, {"time", "foo"}}},
      {"/query", {{"query", "1"}, {"timeout", "x"}}},
      {"/query_range", {{"query", "odd_values"}, {"start", t0}, {"end", tend}, {"step", "60"}}},
      {"/query_range",
       {{"query", "max by (job) (rate(http_requests_total[2m]))"},
        {"start", t0},
        {"end", t20},
        {"step", "1m"}}},
      {"/query_range", {{"query", "1"}, {"start", "0"}, {"end", "1"}, {"step", "0"}}},
      {"/query_range", {{"query", "1"}, {"start", "0"}, {"end", "100000"}, {"step", "1"}}},
      {"/query_range", {{"query", "1"}, {"start", "10"}, {"end", "1"}, {"step", "1"}}},
      {"/query_range", {{"query", "1"}, {"start", "1"}, {"end", "2"}}},
      {"/query_exemplars",
       {{"query", "http_requests_total"}, {"start", "1600000000000"}, {"end", "1600000001000"}}},
      {"/metadata", {}},
      {"/metadata", {{"limit", "x"}}},
      {"/targets/metadata", {}},
      {"/targets", {}},
      {"/scrape_pools", {}},
      {"/rules", {}},
      {"/alerts", {}},
      {"/alertmanagers", {}},
      {"/status/walreplay", {}},
  };
  httplib::Client client("127.0.0.1", prom.port());
  for (const auto& c : cases) {
    httplib::Params params(c.form.begin(), c.form.end());
    // Form-encoded POST for the endpoints that take it, as Grafana sends queries.
    const bool post = c.path == "/query" || c.path == "/query_range" || c.path == "/series";
    auto want = post ? client.Post(("/api/v1" + c.path).c_str(), params)
                     : client.Get(("/api/v1" + c.path).c_str(), params, httplib::Headers{});
    ASSERT_TRUE(want) << c.path;
    ApiRequest r;
    r.method = post ? "POST" : "GET";
    r.form = c.form;
    const ApiResponse got = api.Handle(c.path, r);
    const std::string got_body = got.BodyString();
    std::string desc = c.path;
    for (const auto& [k, v] : c.form) desc += " " + k + "=" + v;
    EXPECT_EQ(got.status, want->status) << desc;
    EXPECT_EQ(nlohmann::json::parse(got_body, nullptr, false),
              nlohmann::json::parse(want->body, nullptr, false))
        << desc << "\n kiln:       " << got_body << "\n prometheus: " << want->body;
    EXPECT_EQ(got_body, want->body) << desc;
  }
}

}  // namespace
}  // namespace kiln::web::api::v1
