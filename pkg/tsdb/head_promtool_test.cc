// Compatibility with Prometheus 2.42 in both directions: `promtool tsdb dump` over a data
// directory the head wrote (WAL and chunks_head/) returns exactly the committed samples, and
// the head opened on a directory Prometheus wrote returns exactly what promtool dumps.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"
#include "pkg/util/float_format.h"
#include "pkg/util/test_listen.h"

namespace kiln::tsdb {
namespace {

using model::Labels;
using testing::TempDir;

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

// Runs `cmd` and returns its standard output.
std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::multiset<std::string> Lines(const std::string& text) {
  std::multiset<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

TEST(HeadPromtoolTest, PromtoolDumpsWhatTheHeadWrote) {
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  std::multiset<std::string> want;
  {
    HeadOptions o;
    o.dir = dir.path();
    o.logger = Logger(LogLevel::kError);
    auto head = std::move(Head::Open(o)).value();
    const int64_t start = 1700000000000;
    for (int batch = 0; batch < 4; ++batch) {
      auto app = head->NewAppender();
      for (int s = 0; s < 5; ++s) {
        Labels ls{
            {"__name__", "kiln_test_metric"}, {"series", std::to_string(s)}, {"quote", "a\"b"}};
        for (int i = 0; i < 100; ++i) {
          int64_t t = start + (batch * 100 + i) * 15000;
          double v = s % 2 ? (batch * 100 + i) * 1.5 : 0.01 * i - s;
          ASSERT_TRUE(app->Append(0, ls, t, v).ok());
          want.insert(ls.ToString() + " " + FormatFloatG(v) + " " + std::to_string(t));
        }
      }
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(head->Close().ok());
  }
  ASSERT_TRUE(std::filesystem::exists(dir.path() + "/chunks_head/000001"));
  std::string out =
      RunCommand(std::string(kPromtool) + " tsdb dump " + dir.path() + " 2>/dev/null");
  std::multiset<std::string> got = Lines(out);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

// An exporter for Prometheus to scrape: ~150 series of varied shapes (special values,
// escaped label values, histogram buckets) that change on every scrape, plus one series
// present only on even scrapes, so Prometheus writes staleness markers too.
class FixtureExporter {
 public:
  FixtureExporter() {
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const int n = scrapes_.fetch_add(1);
      res.set_content(Page(n), "text/plain; version=0.0.4");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FixtureExporter() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  int scrapes() const { return scrapes_.load(); }

 private:
  static std::string Page(int n) {
    std::ostringstream out;
    out << "# TYPE fixture_requests_total counter\n";
    for (int i = 0; i < 100; ++i) {
      out << "fixture_requests_total{path=\"/p" << i << "\",quote=\"a\\\"b\"} " << n * (i + 1)
          << "\n";
    }
    out << "# TYPE fixture_gauge gauge\n"
        << "fixture_gauge{kind=\"fraction\"} " << 0.1 * n - 3.25 << "\n"
        << "fixture_gauge{kind=\"large\"} 1.5e+300\n"
        << "fixture_gauge{kind=\"nan\"} NaN\n"
        << "fixture_gauge{kind=\"inf\"} +Inf\n"
        << "fixture_gauge{kind=\"neginf\"} -Inf\n";
    if (n % 2 == 0) out << "fixture_flapping 1\n";
    out << "# TYPE fixture_seconds histogram\n";
    for (int h = 0; h < 4; ++h) {
      int cumulative = 0;
      for (const char* le : {"0.005", "0.01", "0.1", "1", "10", "+Inf"}) {
        cumulative += n + h;
        out << "fixture_seconds_bucket{handler=\"h" << h << "\",le=\"" << le << "\"} " << cumulative
            << "\n";
      }
      out << "fixture_seconds_sum{handler=\"h" << h << "\"} " << 0.25 * n * h << "\n"
          << "fixture_seconds_count{handler=\"h" << h << "\"} " << cumulative << "\n";
    }
    return out.str();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<int> scrapes_{0};
};

TEST(HeadPromtoolTest, HeadReadsWhatPrometheusWrote) {
  if (!std::filesystem::exists(kPromtool) || !std::filesystem::exists(kPrometheus)) {
    GTEST_SKIP() << "prometheus/promtool not installed";
  }
  TempDir dir;
  FixtureExporter exporter;
  ASSERT_GT(exporter.port(), 0);
  // Prometheus scrapes the fixture every 100ms; its own port is the kernel's pick (a probed
  // "free" port can be taken by another test first), since nothing needs to know it.
  std::string config = dir.path() + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\n"
                           "scrape_configs:\n  - job_name: fixture\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << exporter.port() << "']\n";
  std::string data = dir.path() + "/data";
  std::vector<std::string> args = {kPrometheus, "--config.file=" + config,
                                   "--storage.tsdb.path=" + data,
                                   "--web.listen-address=127.0.0.1:0", "--log.level=error"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, kPrometheus, nullptr, nullptr, argv.data(), environ), 0);
  testutil::ChildGuard guard(pid);
  // Stop after a fixed number of scrapes rather than after some time: startup can take many
  // seconds on a busy machine, and a fast one must not make the test any different.
  constexpr int kScrapes = 8;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (exporter.scrapes() < kScrapes && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(exporter.scrapes(), kScrapes) << "Prometheus did not scrape the fixture";
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  guard.Release();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  std::multiset<std::string> want =
      Lines(RunCommand(std::string(kPromtool) + " tsdb dump " + data + " 2>/dev/null"));
  // Every scrape before SIGTERM is committed (appended series x scrapes, plus up & co.).
  ASSERT_GT(want.size(), size_t{kScrapes - 1} * 140) << "Prometheus wrote too little to compare";

  HeadOptions o;
  o.dir = data;
  o.logger = Logger(LogLevel::kError);
  auto head = Head::Open(o);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto q = std::move((*head)->NewQuerier(std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max()))
               .value();
  auto all = model::Matcher::Make(model::MatchType::kRegexMatch, "__name__", ".*").value();
  auto set = q->Select(true, nullptr, {all});
  std::multiset<std::string> got;
  while (set->Next()) {
    std::string ls = set->At().labels().ToString();
    auto it = set->At().Iterator();
    while (it->Next() != chunkenc::ValueType::kNone) {
      auto [t, v] = it->At();
      got.insert(ls + " " + FormatFloatG(v) + " " + std::to_string(t));
    }
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace kiln::tsdb
