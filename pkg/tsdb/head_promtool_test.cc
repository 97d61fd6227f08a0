// Compatibility with Prometheus 2.42 in both directions: `promtool tsdb dump` over a data
// directory the head wrote (WAL and chunks_head/) returns exactly the committed samples, and
// the head opened on a directory Prometheus wrote returns exactly what promtool dumps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"
#include "pkg/util/float_format.h"

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

// A TCP port nobody listens on right now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HeadPromtoolTest, HeadReadsWhatPrometheusWrote) {
  if (!std::filesystem::exists(kPromtool) || !std::filesystem::exists(kPrometheus)) {
    GTEST_SKIP() << "prometheus/promtool not installed";
  }
  TempDir dir;
  // Prometheus scrapes itself every 100ms for a few seconds, then stops cleanly.
  std::string port = std::to_string(FreePort());
  std::string config = dir.path() + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\n"
                           "scrape_configs:\n  - job_name: self\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << port << "']\n";
  std::string data = dir.path() + "/data";
  std::vector<std::string> args = {kPrometheus, "--config.file=" + config,
                                   "--storage.tsdb.path=" + data,
                                   "--web.listen-address=127.0.0.1:" + port, "--log.level=error"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, kPrometheus, nullptr, nullptr, argv.data(), environ), 0);
  // Startup can take seconds on a busy machine: wait for the first scrapes to reach the WAL.
  std::string segment = data + "/wal/00000000";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         (!std::filesystem::exists(segment) || std::filesystem::file_size(segment) == 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);

  std::multiset<std::string> want =
      Lines(RunCommand(std::string(kPromtool) + " tsdb dump " + data + " 2>/dev/null"));
  ASSERT_GT(want.size(), 100u) << "Prometheus wrote too little to compare";

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
