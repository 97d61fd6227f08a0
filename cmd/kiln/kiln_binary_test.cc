// Runs the real kiln binary (KILN_BINARY): command-line errors, readiness, remote write over
// HTTP, durability across kill -9 (WAL replay), graceful shutdown, the admin API and storage
// flags.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <snappy.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/model/value.h"
#include "pkg/prompb/remote.pb.h"
#include "pkg/tsdb/head.h"
#include "pkg/util/test_listen.h"

extern char** environ;

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A kiln process with stdout/stderr redirected to files in `dir`.
struct Process {
  pid_t pid = -1;
  fs::path out, err;

  static Process Spawn(const std::vector<std::string>& args, const fs::path& dir) {
    Process p;
    p.out = dir / "stdout.txt";
    p.err = dir / "stderr.txt";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, p.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, p.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv = {const_cast<char*>(KILN_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&p.pid, KILN_BINARY, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return p;
  }

  // Waits for exit; returns the exit code, or 128+signal.
  int Wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

class KilnBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln_binary_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "prometheus.yml") << "global:\n  scrape_interval: 15s\n";
  }
  void TearDown() override {
    if (proc_.pid > 0) {
      kill(proc_.pid, SIGKILL);
      proc_.Wait();
    }
    fs::remove_all(dir_);
  }

  // Starts kiln on a port the kernel picks (see pkg/util/test_listen.h) and waits until it is
  // ready. The waits are long because kiln under ASan on a loaded CI machine can take many
  // seconds to start; a healthy start returns as soon as /-/ready answers.
  void StartServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--config.file=" + (dir_ / "prometheus.yml").string(),
                                     "--storage.tsdb.path=" + (dir_ / "data").string(),
                                     "--web.listen-address=127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = Process::Spawn(args, dir_);
    port_ = testutil::WaitForListeningPort(proc_.pid);
    ASSERT_GT(port_, 0) << "kiln did not listen; stderr:\n" << ReadFile(proc_.err);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(std::chrono::seconds(60));
    client_->set_write_timeout(std::chrono::seconds(60));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = client_->Get("/-/ready");
      if (r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL() << "kiln not ready; stderr:\n" << ReadFile(proc_.err);
  }

  fs::path dir_;
  Process proc_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

struct CliCase {
  std::vector<std::string> args;
  int code;
  std::string stdout_has;
  std::string stderr_has;
};

TEST_F(KilnBinaryTest, CommandLine) {
  const std::vector<CliCase> cases = {
      {{"--bogus"}, 1, "", "kiln: error: unknown long flag '--bogus'"},
      {{"--web.listen-address"}, 1, "", "expected argument for flag '--web.listen-address'"},
      {{"--query.timeout=soon"}, 1, "", "invalid value \"soon\" for flag '--query.timeout'"},
      {{"--version"}, 0, "kiln, version ", ""},
      {{"--help"}, 0, "usage: kiln [<flags>]", ""},
      {{"--config.file=/nonexistent/kiln.yml"},
       1,
       "",
       "Error loading config (--config.file=/nonexistent/kiln.yml)"},
      {{"--config.file=" + (dir_ / "prometheus.yml").string(), "--web.listen-address=nope"},
       1,
       "",
       "Unable to start web listener"},
  };
  for (const auto& c : cases) {
    Process p = Process::Spawn(c.args, dir_);
    EXPECT_EQ(p.Wait(), c.code) << c.args[0];
    EXPECT_NE(ReadFile(p.out).find(c.stdout_has), std::string::npos) << ReadFile(p.out);
    EXPECT_NE(ReadFile(p.err).find(c.stderr_has), std::string::npos) << ReadFile(p.err);
  }
}

std::string WriteBody(int batch, int series, int samples_per_series, int64_t t0) {
  prompb::WriteRequest req;
  for (int s = 0; s < series; ++s) {
    auto* ts = req.add_timeseries();
    auto* name = ts->add_labels();
    name->set_name("__name__");
    name->set_value("rw_test");
    auto* id = ts->add_labels();
    id->set_name("series");
    id->set_value(std::to_string(s));
    for (int k = 0; k < samples_per_series; ++k) {
      auto* smp = ts->add_samples();
      smp->set_timestamp(t0 + (batch * samples_per_series + k) * 1000);
      smp->set_value(batch * samples_per_series + k);
    }
  }
  std::string raw = req.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// Every acknowledged (204) sample must survive kill -9: the WAL is written before Commit
// returns. Then kiln must replay the WAL on restart, serve the samples over remote read, and
// stop cleanly via /-/quit.
TEST_F(KilnBinaryTest, RemoteWriteSurvivesKill9) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"--web.enable-remote-write-receiver", "--web.enable-lifecycle"}));
  constexpr int kBatches = 20, kSeries = 30, kPerSeries = 10;
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     kBatches * kPerSeries * 1000;
  httplib::Headers h = {{"Content-Encoding", "snappy"},
                        {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  for (int b = 0; b < kBatches; ++b) {
    auto r = client_->Post("/api/v1/write", h, WriteBody(b, kSeries, kPerSeries, t0),
                           "application/x-protobuf");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 204) << r->body;
  }
  kill(proc_.pid, SIGKILL);
  EXPECT_EQ(proc_.Wait(), 128 + SIGKILL);

  tsdb::HeadOptions opts;
  opts.dir = (dir_ / "data").string();
  opts.read_only = true;
  auto head = tsdb::Head::Open(opts);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto q = (*head)->NewQuerier(model::kMinTime, model::kMaxTime);
  ASSERT_TRUE(q.ok());
  auto m = model::Matcher::Make(model::MatchType::kEqual, "__name__", "rw_test");
  ASSERT_TRUE(m.ok());
  auto set = (*q)->Select(true, nullptr, {*m});
  int series = 0;
  while (set->Next()) {
    auto it = set->At().Iterator();
    int n = 0;
    while (it->Next() != chunkenc::ValueType::kNone) {
      auto [t, v] = it->At();
      EXPECT_EQ(t, t0 + n * 1000);
      EXPECT_EQ(v, n);
      ++n;
    }
    EXPECT_TRUE(it->err().ok());
    EXPECT_EQ(n, kBatches * kPerSeries) << set->At().labels().ToString();
    ++series;
  }
  EXPECT_TRUE(set->err().ok());
  EXPECT_EQ(series, kSeries);
  q->reset();
  head->reset();

  // After replay, the same samples come back over HTTP through remote read.
  ASSERT_NO_FATAL_FAILURE(StartServer({"--web.enable-lifecycle"}));
  prompb::ReadRequest rr;
  auto* rq = rr.add_queries();
  rq->set_start_timestamp_ms(t0);
  rq->set_end_timestamp_ms(t0 + kBatches * kPerSeries * 1000);
  auto* lm = rq->add_matchers();
  lm->set_name("series");
  lm->set_value("7");
  std::string raw = rr.SerializeAsString(), body, decoded;
  snappy::Compress(raw.data(), raw.size(), &body);
  auto rd = client_->Post("/api/v1/read", body, "application/x-protobuf");
  ASSERT_TRUE(rd);
  ASSERT_EQ(rd->status, 200) << rd->body;
  ASSERT_TRUE(snappy::Uncompress(rd->body.data(), rd->body.size(), &decoded));
  prompb::ReadResponse resp;
  ASSERT_TRUE(resp.ParseFromString(decoded));
  ASSERT_EQ(resp.results_size(), 1);
  ASSERT_EQ(resp.results(0).timeseries_size(), 1);
  EXPECT_EQ(resp.results(0).timeseries(0).samples_size(), kBatches * kPerSeries);

  // And through the HTTP API's PromQL engine.
  std::string at = std::to_string((t0 + (kBatches * kPerSeries - 1) * 1000) / 1000.0);
  auto qr = client_->Get(("/api/v1/query?query=count(rw_test)&time=" + at).c_str());
  ASSERT_TRUE(qr);
  EXPECT_EQ(qr->status, 200) << qr->body;
  EXPECT_NE(qr->body.find(R"("value":[)"), std::string::npos) << qr->body;
  EXPECT_NE(qr->body.find(R"(,"30"]})"), std::string::npos) << qr->body;

  auto r = client_->Post("/-/quit", "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(proc_.Wait(), 0);
  std::string log = ReadFile(proc_.err);
  EXPECT_NE(log.find("Received termination request via web service"), std::string::npos) << log;
  EXPECT_NE(log.find("See you next time!"), std::string::npos) << log;

  // --storage.remote.read-sample-limit reaches the remote read handler.
  ASSERT_NO_FATAL_FAILURE(StartServer({"--storage.remote.read-sample-limit=5"}));
  rd = client_->Post("/api/v1/read", body, "application/x-protobuf");
  ASSERT_TRUE(rd);
  EXPECT_NE(rd->status, 200);
  EXPECT_NE(rd->body.find("exceeded sample limit (5)"), std::string::npos) << rd->body;
  kill(proc_.pid, SIGTERM);
  EXPECT_EQ(proc_.Wait(), 0);
}

// The storage flags reach the DB and the admin API works on it: snapshot (Prometheus's
// naming, a readable block), delete_series (survives a restart through the WAL),
// clean_tombstones; the data directory is locked; the DB's metrics are exported.
TEST_F(KilnBinaryTest, AdminApiStorageFlagsAndMetrics) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"--web.enable-remote-write-receiver", "--web.enable-admin-api",
                   "--storage.tsdb.retention.time=30d", "--storage.tsdb.wal-compression=false"}));
  constexpr int kSeries = 5, kPerSeries = 20;
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     kPerSeries * 1000;
  httplib::Headers h = {{"Content-Encoding", "snappy"},
                        {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  auto w = client_->Post("/api/v1/write", h, WriteBody(0, kSeries, kPerSeries, t0),
                         "application/x-protobuf");
  ASSERT_TRUE(w);
  ASSERT_EQ(w->status, 204) << w->body;

  // A second server on the same directory is refused by the lock.
  {
    fs::create_directories(dir_ / "second");
    Process second = Process::Spawn(
        {"--config.file=" + (dir_ / "prometheus.yml").string(),
         "--storage.tsdb.path=" + (dir_ / "data").string(), "--web.listen-address=127.0.0.1:0"},
        dir_ / "second");
    EXPECT_EQ(second.Wait(), 1);
    EXPECT_NE(ReadFile(second.err).find("Opening storage failed"), std::string::npos)
        << ReadFile(second.err);
  }

  auto r = client_->Post("/api/v1/admin/tsdb/snapshot", "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string prefix = R"({"status":"success","data":{"name":")";
  ASSERT_EQ(r->body.substr(0, prefix.size()), prefix) << r->body;
  const std::string name = r->body.substr(prefix.size(), 33);
  EXPECT_EQ(r->body, prefix + name + "\"}}");
  EXPECT_EQ(name[8], 'T');
  EXPECT_EQ(name[15], 'Z');
  EXPECT_EQ(name[16], '-');
  const fs::path snap = dir_ / "data" / "snapshots" / name;
  ASSERT_TRUE(fs::is_directory(snap)) << snap;
  int blocks = 0;
  for (const auto& e : fs::directory_iterator(snap)) blocks += fs::exists(e.path() / "meta.json");
  EXPECT_EQ(blocks, 1) << "the head, written as a block";

  auto count = [&]() {
    const std::string at = std::to_string((t0 + (kPerSeries - 1) * 1000) / 1000.0);
    auto q = client_->Get(("/api/v1/query?query=count(rw_test)&time=" + at).c_str());
    return q ? q->body : std::string("no response");
  };
  EXPECT_NE(count().find(R"(,"5"]})"), std::string::npos) << count();
  r = client_->Get("/api/v1/status/tsdb");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find(R"("headStats":{"numSeries":5,)"), std::string::npos) << r->body;
  r = client_->Post("/api/v1/admin/tsdb/delete_series?match[]=rw_test%7Bseries%3D%223%22%7D", "",
                    "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << r->body;
  EXPECT_NE(count().find(R"(,"4"]})"), std::string::npos) << count();
  r = client_->Post("/api/v1/admin/tsdb/clean_tombstones", "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << r->body;

  r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  for (const char* m :
       {"prometheus_tsdb_blocks_loaded 0", "prometheus_tsdb_compactions_total 0",
        "prometheus_tsdb_head_truncations_total 0", "prometheus_tsdb_storage_blocks_bytes 0",
        "prometheus_tsdb_retention_limit_seconds 2592000", "prometheus_tsdb_lowest_timestamp ",
        "prometheus_tsdb_checkpoint_creations_total 0"}) {
    EXPECT_NE(r->body.find(m), std::string::npos) << m;
  }
  // The tombstone is in the WAL: a restart still has four series.
  kill(proc_.pid, SIGTERM);
  EXPECT_EQ(proc_.Wait(), 0);
  // The deprecated retention flag still works (with a warning), as in Prometheus.
  ASSERT_NO_FATAL_FAILURE(StartServer({"--storage.tsdb.retention=10d"}));
  EXPECT_NE(count().find(R"(,"4"]})"), std::string::npos) << count();
  r = client_->Get("/api/v1/status/runtimeinfo");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find(R"("storageRetention":"10d")"), std::string::npos) << r->body;
  r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("prometheus_tsdb_retention_limit_seconds 864000"), std::string::npos);
  EXPECT_NE(ReadFile(proc_.err).find("'storage.tsdb.retention' flag is deprecated"),
            std::string::npos);
}

TEST_F(KilnBinaryTest, ApiAndSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--query.lookback-delta=7m"}));
  auto r = client_->Post("/api/v1/write", "", "application/x-protobuf");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = client_->Get("/api/v1/query?query=1%2B1&time=4");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  r = client_->Get("/api/v1/status/flags");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find(R"("query.lookback-delta":"7m")"), std::string::npos) << r->body;
  r = client_->Get("/api/v1/status/config");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("scrape_interval: 15s"), std::string::npos) << r->body;
  kill(proc_.pid, SIGTERM);
  EXPECT_EQ(proc_.Wait(), 0);
  std::string log = ReadFile(proc_.err);
  EXPECT_NE(log.find("msg=\"Server is ready to receive web requests.\""), std::string::npos) << log;
  EXPECT_NE(log.find("Received SIGTERM, exiting gracefully..."), std::string::npos) << log;
}

}  // namespace
}  // namespace kiln
