// Compatibility with the real Prometheus 2.42: its WAL read by our Reader and record
// decoders, and our WAL read by promtool. Skipped when the binaries are absent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <snappy.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "pkg/model/value.h"
#include "pkg/tsdb/record/record.h"
#include "pkg/tsdb/wlog/checkpoint.h"
#include "pkg/tsdb/wlog/test_util.h"
#include "pkg/tsdb/wlog/wlog.h"
#include "pkg/util/coding.h"
#include "pkg/util/test_listen.h"

namespace kiln::tsdb::wlog {
namespace {

using testing::TempDir;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPromtool = "/usr/bin/promtool";

// One sample of one series, labels printed as Prometheus prints them. Values compare by
// bit pattern so NaNs and stale markers count.
struct Point {
  std::string labels;
  int64_t t;
  uint64_t bits;
  auto operator<=>(const Point&) const = default;
};

// --- a minimal protobuf writer for prometheus.WriteRequest (remote write 1.0) ---

void PutTag(std::string* dst, int field, int wire_type) { PutUvarint(dst, field << 3 | wire_type); }

void PutBytesField(std::string* dst, int field, std::string_view s) {
  PutTag(dst, field, 2);
  PutUvarintBytes(dst, s);
}

struct TestSeries {
  model::Labels labels;
  std::vector<model::Sample> samples;
};

// WriteRequest{timeseries=1: TimeSeries{labels=1: Label{name=1, value=2},
// samples=2: Sample{value=1 (double), timestamp=2 (int64)}}}.
std::string EncodeWriteRequest(const std::vector<TestSeries>& series) {
  std::string req;
  for (const auto& s : series) {
    std::string ts;
    for (const auto& l : s.labels) {
      std::string label;
      PutBytesField(&label, 1, l.name);
      PutBytesField(&label, 2, l.value);
      PutBytesField(&ts, 1, label);
    }
    for (const auto& smp : s.samples) {
      std::string sample;
      PutTag(&sample, 1, 1);
      const uint64_t bits = DoubleBits(smp.v);
      for (int i = 0; i < 8; i++) sample.push_back(static_cast<char>(bits >> (8 * i)));
      PutTag(&sample, 2, 0);
      PutUvarint(&sample, static_cast<uint64_t>(smp.t));
      PutBytesField(&ts, 2, sample);
    }
    PutBytesField(&req, 1, ts);
  }
  std::string compressed;
  snappy::Compress(req.data(), req.size(), &compressed);
  return compressed;
}

// Runs a command with stdout and stderr sent to `log`; killed with SIGKILL on destruction.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() { Kill(); }
  pid_t pid() const { return pid_; }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Runs a command to completion and returns its stdout.
std::string RunAndCapture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Series with label values long and varied enough that a request's Series record spans
// several 32 KiB pages even after snappy.
std::vector<TestSeries> MakeSeries(int n, int64_t t0, int request) {
  std::vector<TestSeries> out;
  for (int i = 0; i < n; i++) {
    const std::string id = std::to_string(i * 7919 % 100003) + "-" + std::to_string(i);
    TestSeries s{model::Labels{{"__name__", "kiln_compat_" + std::to_string(i % 7)},
                               {"instance", "host-" + id + ".example.org:9100"},
                               {"path", "/v1/" + std::to_string(i * 31337) + "/items"}},
                 {}};
    for (int j = 0; j < 3; j++) {
      const int64_t t = t0 + request * 10000 + j * 1000;
      double v = i * 1.5 + j + request * 1000;
      if (i == 3 && j == 2) v = model::StaleNaN();
      if (i == 4 && j == 1) v = std::nan("");
      s.samples.push_back({t, v});
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Polls /-/ready for up to two minutes: Prometheus can take many seconds to start on a
// loaded CI machine, and a healthy start returns at once.
bool WaitReady(int port) {
  httplib::Client cli("127.0.0.1", port);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    auto res = cli.Get("/-/ready");
    if (res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Reads a WAL directory with our Reader and decoders into points.
std::set<Point> ReadPoints(const std::string& wal_dir, size_t* records) {
  std::map<record::HeadSeriesRef, std::string> labels;
  std::set<Point> points;
  auto r = Reader::Open({{wal_dir, -1, -1}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return points;
  std::vector<record::RefSeries> series;
  std::vector<record::RefSample> samples;
  while ((*r)->Next()) {
    (*records)++;
    const std::string_view rec = (*r)->Record();
    series.clear();
    samples.clear();
    switch (record::GetType(rec)) {
      case record::Type::kSeries:
        EXPECT_TRUE(record::DecodeSeries(rec, &series).ok());
        for (const auto& s : series) labels[s.ref] = s.labels.ToString();
        break;
      case record::Type::kSamples:
        EXPECT_TRUE(record::DecodeSamples(rec, &samples).ok());
        for (const auto& s : samples) {
          EXPECT_TRUE(labels.contains(s.ref)) << "sample before its series: " << s.ref;
          points.insert({labels[s.ref], s.t, DoubleBits(s.v)});
        }
        break;
      default:
        ADD_FAILURE() << "unexpected record type " << int(uint8_t(rec[0]));
    }
  }
  EXPECT_TRUE((*r)->err().ok()) << (*r)->err().ToString();
  return points;
}

std::set<Point> Expected(const std::vector<std::vector<TestSeries>>& requests) {
  std::set<Point> want;
  for (const auto& req : requests) {
    for (const auto& s : req) {
      for (const auto& smp : s.samples)
        want.insert({s.labels.ToString(), smp.t, DoubleBits(smp.v)});
    }
  }
  return want;
}

// promtool prints every NaN as "NaN": compare NaNs by class, everything else by bits.
std::set<Point> NormaliseNaN(const std::set<Point>& in) {
  std::set<Point> out;
  for (Point p : in) {
    if (std::isnan(DoubleFromBits(p.bits))) p.bits = DoubleBits(std::nan(""));
    out.insert(p);
  }
  return out;
}

// Runs `promtool tsdb dump dir` and parses its "labels value timestamp" lines.
std::set<Point> PromtoolDump(const std::string& dir, size_t* lines) {
  const std::string out = RunAndCapture(std::string(kPromtool) + " tsdb dump " + dir + " 2>&1");
  std::set<Point> got;
  for (size_t pos = 0; pos < out.size();) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    const std::string line = out.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t brace = line.rfind("} ");
    if (brace == std::string::npos) {
      ADD_FAILURE() << "unexpected promtool output: " << line;
      continue;
    }
    (*lines)++;
    char* end = nullptr;
    const double v = std::strtod(line.c_str() + brace + 2, &end);
    got.insert({line.substr(0, brace + 1), std::strtoll(end, nullptr, 10), DoubleBits(v)});
  }
  return NormaliseNaN(got);
}

// Runs Prometheus on `data_dir`, pushes `requests` over remote write, then kills it with
// SIGKILL right after the last acknowledgement.
void PushToPrometheusAndKill(const std::string& dir, const std::string& data_dir,
                             const std::vector<std::vector<TestSeries>>& requests) {
  const std::string config = dir + "/prometheus.yml";
  testing::WriteFile(config, "global:\n  scrape_interval: 1h\n");
  Process prom({kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + data_dir,
                "--web.listen-address=127.0.0.1:0", "--web.enable-remote-write-receiver"},
               dir + "/prometheus.log");
  // The kernel picks the port (pkg/util/test_listen.h): a probed "free" port can be taken by
  // another test before Prometheus binds it.
  const int port = testutil::WaitForListeningPort(prom.pid());
  ASSERT_GT(port, 0) << testing::ReadFile(dir + "/prometheus.log");
  ASSERT_TRUE(WaitReady(port)) << testing::ReadFile(dir + "/prometheus.log");
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(std::chrono::seconds(60));
  for (const auto& req : requests) {
    httplib::Headers headers = {{"Content-Encoding", "snappy"},
                                {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
    auto res =
        cli.Post("/api/v1/write", headers, EncodeWriteRequest(req), "application/x-protobuf");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 204) << res->body;
  }
  prom.Kill();
}

// Prometheus writes, Kiln reads: every pushed sample is in the WAL of a Prometheus that was
// killed with SIGKILL right after acknowledging the pushes.
TEST(CompatTest, ReadsWalWrittenByPrometheus) {
  if (access(kPrometheus, X_OK) != 0) GTEST_SKIP() << kPrometheus << " not installed";
  TempDir dir;
  const int64_t t0 = NowMs() - 60000;
  const std::vector<std::vector<TestSeries>> requests = {
      MakeSeries(2000, t0, 0), MakeSeries(5, t0, 1), MakeSeries(300, t0, 2)};
  PushToPrometheusAndKill(dir.path(), dir.path() + "/data", requests);

  size_t records = 0;
  const std::set<Point> got = ReadPoints(dir.path() + "/data/wal", &records);
  const std::set<Point> want = Expected(requests);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  // One Series record (later requests reuse the same series) and a Samples record per
  // request, the first ones spanning several pages.
  EXPECT_EQ(records, 4u);
}

// A Prometheus data directory whose WAL tail was torn by a crash: Kiln repairs it, and
// Prometheus's own tooling then reads exactly the records before the damage.
TEST(CompatTest, RepairsTornWalWrittenByPrometheus) {
  if (access(kPrometheus, X_OK) != 0 || access(kPromtool, X_OK) != 0) {
    GTEST_SKIP() << "Prometheus 2.42 binaries not installed";
  }
  TempDir dir;
  const std::string wal = dir.path() + "/data/wal";
  const int64_t t0 = NowMs() - 60000;
  const std::vector<std::vector<TestSeries>> requests = {
      MakeSeries(500, t0, 0), MakeSeries(500, t0, 1), MakeSeries(500, t0, 2)};
  PushToPrometheusAndKill(dir.path(), dir.path() + "/data", requests);

  auto clean = testing::ReadAll(wal);
  ASSERT_TRUE(clean.status.ok()) << clean.status.ToString();
  ASSERT_EQ(clean.records.size(), 4u);  // series, then samples of each request
  const auto& last = clean.positions.back();
  const std::string seg = SegmentName(wal, last.segment);
  std::string bytes = testing::ReadFile(seg);
  bytes.resize(last.end - 3);  // the last samples record loses its tail
  testing::WriteFile(seg, bytes);

  auto damaged = testing::ReadAll(wal);
  ASSERT_TRUE(damaged.status.Is(StatusCode::kCorruption)) << damaged.status.ToString();
  {
    auto wl = WL::Open(wal, Options{}, Logger(LogLevel::kError));
    ASSERT_TRUE(wl.ok());
    ASSERT_TRUE((*wl)->Repair(damaged.corruption).ok());
  }
  auto repaired = testing::ReadAll(wal);
  ASSERT_TRUE(repaired.status.ok()) << repaired.status.ToString();
  EXPECT_EQ(repaired.records.size(), 3u);
  size_t lines = 0;
  const std::set<Point> got = PromtoolDump(dir.path() + "/data", &lines);
  const std::set<Point> want = NormaliseNaN(Expected({requests[0], requests[1]}));
  EXPECT_EQ(lines, want.size());
  EXPECT_TRUE(got == want);
}

// Logs each request as the head would commit it: new series, then the samples in records of
// at most 1000, in one Log call.
void LogRequests(WL* wl, const std::vector<std::vector<TestSeries>>& requests,
                 bool next_segment_each) {
  std::map<std::string, record::HeadSeriesRef> refs;
  for (const auto& req : requests) {
    std::vector<record::RefSeries> series;
    std::vector<record::RefSample> samples;
    for (const auto& s : req) {
      auto [it, added] = refs.emplace(s.labels.ToString(), refs.size() + 1);
      if (added) series.push_back({it->second, s.labels});
      for (const auto& smp : s.samples) samples.push_back({it->second, smp.t, smp.v});
    }
    std::vector<std::string> recs(1);
    record::EncodeSeries(series, &recs[0]);
    for (size_t i = 0; i < samples.size(); i += 1000) {
      const size_t n = std::min<size_t>(1000, samples.size() - i);
      record::EncodeSamples(std::span(samples).subspan(i, n), &recs.emplace_back());
    }
    ASSERT_TRUE(wl->Log(std::span<const std::string>(recs)).ok());
    if (next_segment_each) ASSERT_TRUE(wl->NextSegment().ok());
  }
}

// Kiln writes, Prometheus reads: promtool replays our WAL into its head and dumps exactly
// our samples.
class PromtoolDumpTest : public ::testing::TestWithParam<bool> {};

TEST_P(PromtoolDumpTest, DumpsWalWrittenByKiln) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " not installed";
  TempDir dir;
  const int64_t t0 = 1700000000000;
  const std::vector<std::vector<TestSeries>> requests = {MakeSeries(1500, t0, 0),
                                                         MakeSeries(20, t0, 1)};
  {
    Options o;
    o.compress = GetParam();
    o.segment_size = 2 * kPageSize;  // several segments, some oversized
    auto wl = WL::Open(dir.path() + "/wal", o, Logger(LogLevel::kError));
    ASSERT_TRUE(wl.ok());
    LogRequests(wl->get(), requests, false);
    ASSERT_TRUE((*wl)->Close().ok());
    ASSERT_GE(Segments(dir.path() + "/wal")->second, 1);
  }
  size_t lines = 0;
  const std::set<Point> got = PromtoolDump(dir.path(), &lines);
  const std::set<Point> want = NormaliseNaN(Expected(requests));
  EXPECT_EQ(lines, want.size());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

// Prometheus replays a Kiln checkpoint followed by the remaining segments.
TEST_P(PromtoolDumpTest, DumpsCheckpointWrittenByKiln) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " not installed";
  TempDir dir;
  const int64_t t0 = 1700000000000;
  std::vector<std::vector<TestSeries>> requests;
  for (int i = 0; i < 6; i++) requests.push_back(MakeSeries(200, t0, i));
  const int64_t mint = t0 + 2 * 10000 + 1000;
  {
    Options o;
    o.compress = GetParam();
    auto wl = WL::Open(dir.path() + "/wal", o, Logger(LogLevel::kError));
    ASSERT_TRUE(wl.ok());
    LogRequests(wl->get(), requests, true);  // request i in segment i
    auto keep = [](record::HeadSeriesRef) { return true; };
    auto stats = Checkpoint(Logger(LogLevel::kError), wl->get(), 0, 2, keep, mint);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_TRUE((*wl)->Truncate(3).ok());
    ASSERT_TRUE((*wl)->Close().ok());
  }
  std::set<Point> want;
  for (const Point& p : Expected(requests)) {
    if (p.t >= mint) want.insert(p);
  }
  want = NormaliseNaN(want);
  size_t lines = 0;
  const std::set<Point> got = PromtoolDump(dir.path(), &lines);
  EXPECT_EQ(lines, want.size());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

INSTANTIATE_TEST_SUITE_P(Compression, PromtoolDumpTest, ::testing::Bool());

}  // namespace
}  // namespace kiln::tsdb::wlog
