// Compatibility with real Prometheus (2.42 at /usr/bin/prometheus): samples pushed over
// remote write end up, once Prometheus has cut full chunks and shut down, in its
// chunks_head/ files. ChunkDiskMapper must replay those files and every chunk must decode to
// the pushed samples; re-encoding them must give Prometheus's exact bytes.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <snappy.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/tsdb/chunks/head_chunks.h"
#include "pkg/util/coding.h"
#include "pkg/util/test_listen.h"

namespace kiln::tsdb::chunks {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr int kSeries = 3;
constexpr int kSamples = 300;

// Protocol buffer encoding of prometheus.WriteRequest, by hand (field numbers from
// prompb/remote.proto and types.proto).
void PutTag(std::string* b, int field, int wire) { PutUvarint(b, (field << 3) | wire); }
void PutBytesField(std::string* b, int field, std::string_view s) {
  PutTag(b, field, 2);
  PutUvarintBytes(b, s);
}

double Value(int series, int i) { return series * 1000 + i * 0.5 + (i % 7 == 0 ? 0.125 : 0); }

std::string WriteRequest(int64_t t0) {
  std::string req;
  for (int s = 0; s < kSeries; s++) {
    std::string ts, label;
    PutBytesField(&label, 1, "__name__");
    PutBytesField(&label, 2, "kiln_compat_" + std::to_string(s));
    PutBytesField(&ts, 1, label);
    for (int i = 0; i < kSamples; i++) {
      std::string sample;
      PutTag(&sample, 1, 1);
      const uint64_t bits = DoubleBits(Value(s, i));
      for (int k = 0; k < 8; k++) sample.push_back(static_cast<char>(bits >> (8 * k)));
      PutTag(&sample, 2, 0);
      PutUvarint(&sample, static_cast<uint64_t>(t0 + i * 15000 + i % 3));
      PutBytesField(&ts, 2, sample);
    }
    PutBytesField(&req, 1, ts);
  }
  return req;
}

TEST(HeadChunksPrometheusTest, ReplaysChunksWrittenByPrometheus) {
  if (!fs::exists(kPrometheus)) GTEST_SKIP() << "prometheus not installed";
  char tmpl[] = "/tmp/kiln_prom_head_chunks_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1h\n";
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cfg = "--config.file=" + dir + "/prometheus.yml";
    const std::string data = "--storage.tsdb.path=" + dir + "/data";
    const std::string listen = "--web.listen-address=127.0.0.1:0";
    freopen((dir + "/prometheus.log").c_str(), "w", stderr);
    execl(kPrometheus, kPrometheus, cfg.c_str(), data.c_str(), listen.c_str(),
          "--web.enable-remote-write-receiver", static_cast<char*>(nullptr));
    _exit(127);
  }
  testutil::ChildGuard guard(pid);
  // The kernel picks the port (pkg/util/test_listen.h): a probed "free" port can be taken by
  // another test before Prometheus binds it. Startup can take many seconds on a loaded CI
  // machine, so the waits are long; a healthy start ends them at once.
  const int port = testutil::WaitForListeningPort(pid);
  ASSERT_GT(port, 0) << "prometheus did not listen";
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(std::chrono::seconds(60));
  bool ready = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    auto res = client.Get("/-/ready");
    ready = res && res->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << "prometheus did not become ready";

  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  // Start on a 2h block boundary (2-4h ago), so that Prometheus's chunk cutting, which aims
  // at 120 samples but bounds chunks by that grid, gives the same chunks whatever the clock.
  constexpr int64_t kBlockMs = 2 * 3600 * 1000;
  const int64_t t0 = (now_ms / kBlockMs - 2) * kBlockMs;
  std::string body;
  const std::string raw = WriteRequest(t0);
  snappy::Compress(raw.data(), raw.size(), &body);
  httplib::Headers headers = {{"Content-Encoding", "snappy"},
                              {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  auto res = client.Post("/api/v1/write", headers, body, "application/x-protobuf");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 204) << res->body;
  ::kill(pid, SIGTERM);
  int wstatus;
  ::waitpid(pid, &wstatus, 0);
  guard.Release();
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);

  auto m = ChunkDiskMapper::Open(dir + "/data/chunks_head");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<HeadChunkInfo> infos;
  auto repair = (*m)->IterateAllChunks([&](const HeadChunkInfo& i) {
    infos.push_back(i);
    return Status::OK();
  });
  ASSERT_TRUE(repair.ok()) << repair.status().ToString();
  EXPECT_EQ(repair->bytes_dropped, 0u);
  // 300 samples per series leave at least two full chunks each on disk.
  ASSERT_GE(infos.size(), 2u * kSeries);
  std::map<uint64_t, int> next_sample;  // per series ref: index of the next expected sample
  std::map<uint64_t, int> series_of;    // series ref -> s, found from the first value
  for (const HeadChunkInfo& info : infos) {
    auto c = (*m)->Chunk(info.ref);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->NumSamples(), info.num_samples);
    chunkenc::XorChunk reencoded;
    auto app = reencoded.NewAppender();
    auto it = (*c)->NewIterator();
    int64_t first = INT64_MIN, last = INT64_MIN;
    while (it->Next() == chunkenc::ValueType::kFloat) {
      const auto [t, v] = it->At();
      if (!series_of.count(info.series_ref))
        series_of[info.series_ref] = static_cast<int>(v / 1000);
      const int s = series_of[info.series_ref];
      const int i = next_sample[info.series_ref]++;
      EXPECT_EQ(t, t0 + i * 15000 + i % 3);
      EXPECT_EQ(v, Value(s, i));
      if (first == INT64_MIN) first = t;
      last = t;
      (*app)->Append(t, v);
    }
    ASSERT_TRUE(it->err().ok());
    EXPECT_EQ(first, info.min_time);
    EXPECT_EQ(last, info.max_time);
    EXPECT_EQ(reencoded.Bytes(), (*c)->Bytes());
  }
  EXPECT_EQ(series_of.size(), static_cast<size_t>(kSeries));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::tsdb::chunks
