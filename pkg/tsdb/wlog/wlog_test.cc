#include "pkg/tsdb/wlog/wlog.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <thread>

#include "pkg/tsdb/wlog/test_util.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::wlog {
namespace {

using testing::MakeRecord;
using testing::ReadAll;
using testing::ReadFile;
using testing::TempDir;

constexpr int64_t kSmallSegment = 4 * kPageSize;

std::unique_ptr<WL> MustOpen(const std::string& dir, bool compress,
                             int64_t segment_size = kSmallSegment,
                             prometheus::Registry* registry = nullptr) {
  Options o;
  o.compress = compress;
  o.segment_size = segment_size;
  o.registry = registry;
  auto wl = WL::Open(dir, o, Logger(LogLevel::kError));
  EXPECT_TRUE(wl.ok()) << wl.status().ToString();
  return std::move(wl).value();
}

class RoundTripTest : public ::testing::TestWithParam<bool> {};

// Every size class the fragmenting code distinguishes, logged one at a time and in
// batches, must come back byte for byte, in order.
TEST_P(RoundTripTest, ManySizes) {
  const bool compress = GetParam();
  const size_t body = kPageSize - kRecordHeaderSize;
  const std::vector<size_t> sizes = {0,
                                     1,
                                     100,
                                     body - 1,
                                     body,
                                     body + 1,
                                     kPageSize,
                                     3 * kPageSize + 5,
                                     static_cast<size_t>(kSmallSegment) + 10,  // > segment
                                     2,
                                     body - 6,
                                     0};
  std::vector<std::string> want;
  TempDir dir;
  {
    auto wl = MustOpen(dir.path(), compress);
    uint32_t seed = 1;
    for (size_t n : sizes) {
      for (bool compressible : {false, true}) {
        want.push_back(MakeRecord(n, seed++, compressible));
        ASSERT_TRUE(wl->Log(want.back()).ok());
      }
    }
    std::vector<std::string> batch;
    for (size_t n : sizes) {
      const uint32_t s = seed++;
      batch.push_back(MakeRecord(n, s, s % 2 == 0));
    }
    ASSERT_TRUE(wl->Log(std::span<const std::string>(batch)).ok());
    want.insert(want.end(), batch.begin(), batch.end());
    ASSERT_TRUE(wl->Close().ok());
  }
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.records.size(), want.size());
  for (size_t i = 0; i < want.size(); i++) EXPECT_EQ(got.records[i], want[i]) << "record " << i;
  // Finished segments are whole pages; only records bigger than a segment overflow one.
  auto segs = ListSegments(dir.path());
  ASSERT_TRUE(segs.ok());
  EXPECT_GT(segs->size(), 3u);
  for (const auto& s : *segs) {
    const std::string data = ReadFile(dir.path() + "/" + s.name);
    EXPECT_EQ(data.size() % kPageSize, 0u) << s.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Compression, RoundTripTest, ::testing::Bool());

// The exact layout: fragment headers, CRCs, and the padding rule for page tails.
TEST(WLTest, PageLayout) {
  TempDir dir;
  auto wl = MustOpen(dir.path(), false);
  const std::string small = "abcdefghij";
  const std::string big = MakeRecord(40000, 7, false);
  const size_t first_len = kPageSize - 17 - 7;  // what fits of `big` after `small`
  const size_t filler_at = kPageSize + 7 + (40000 - first_len);
  const std::string filler = MakeRecord(2 * kPageSize - 3 - filler_at - 7, 8, false);
  ASSERT_TRUE(wl->Log(small).ok());
  ASSERT_TRUE(wl->Log(big).ok());
  ASSERT_TRUE(wl->Log(filler).ok());  // leaves 3 bytes in page 1: too few for a header
  ASSERT_TRUE(wl->Log("z").ok());
  ASSERT_TRUE(wl->Close().ok());
  const std::string seg = ReadFile(SegmentName(dir.path(), 0));
  ASSERT_EQ(seg.size(), 3 * kPageSize);
  auto header = [&](size_t off) {
    return std::make_tuple(int(uint8_t(seg[off])), int(DecodeBE16(&seg[off + 1])),
                           DecodeBE32(&seg[off + 3]));
  };
  EXPECT_EQ(header(0), std::make_tuple(1, 10, Crc32c(small)));
  EXPECT_EQ(seg.substr(7, 10), small);
  EXPECT_EQ(header(17), std::make_tuple(2, int(first_len), Crc32c(big.substr(0, first_len))));
  EXPECT_EQ(header(kPageSize),
            std::make_tuple(4, int(40000 - first_len), Crc32c(big.substr(first_len))));
  EXPECT_EQ(std::get<0>(header(filler_at)), 1);
  EXPECT_EQ(seg.substr(2 * kPageSize - 3, 3), std::string(3, '\0'));
  EXPECT_EQ(header(2 * kPageSize), std::make_tuple(1, 1, Crc32c("z")));
  EXPECT_EQ(seg.substr(2 * kPageSize + 8), std::string(kPageSize - 8, '\0'));
}

TEST(WLTest, CompressedFlagOnlyWhenSmaller) {
  TempDir dir;
  auto wl = MustOpen(dir.path(), true);
  ASSERT_TRUE(wl->Log(MakeRecord(1000, 1, true)).ok());   // shrinks: snappy bit set
  ASSERT_TRUE(wl->Log(MakeRecord(1000, 2, false)).ok());  // random: stored as is
  ASSERT_TRUE(wl->Close().ok());
  const std::string seg = ReadFile(SegmentName(dir.path(), 0));
  EXPECT_EQ(uint8_t(seg[0]), 1 | 8);
  const size_t second = 7 + DecodeBE16(&seg[1]);
  EXPECT_EQ(uint8_t(seg[second]), 1);
  EXPECT_EQ(DecodeBE16(&seg[second + 1]), 1000);
}

TEST(WLTest, OpenStartsNewSegmentAfterLast) {
  TempDir dir;
  for (int i = 0; i < 3; i++) {
    auto wl = MustOpen(dir.path(), true);
    EXPECT_EQ(wl->current_segment(), i);
    ASSERT_TRUE(wl->Log("rec" + std::to_string(i)).ok());
  }
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.records, (std::vector<std::string>{"rec0", "rec1", "rec2"}));
  auto range = Segments(dir.path());
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, std::make_pair(0, 2));
}

TEST(WLTest, NextSegmentAndTruncate) {
  TempDir dir;
  auto wl = MustOpen(dir.path(), false);
  for (int i = 0; i < 5; i++) {
    ASSERT_TRUE(wl->Log("r" + std::to_string(i)).ok());
    auto next = wl->NextSegment();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, i + 1);
  }
  ASSERT_TRUE(wl->Truncate(3).ok());
  EXPECT_EQ(*wl->Segments(), std::make_pair(3, 5));
  ASSERT_TRUE(wl->Truncate(100).ok());  // never deletes the segment being written
  EXPECT_EQ(*wl->Segments(), std::make_pair(5, 5));
  ASSERT_TRUE(wl->Log("after").ok());
  ASSERT_TRUE(wl->Close().ok());
  EXPECT_EQ(ReadAll(dir.path()).records, std::vector<std::string>{"after"});
  EXPECT_TRUE(wl->Log("x").Is(StatusCode::kUnavailable));
}

TEST(WLTest, RejectsGapsAndBadSegmentSize) {
  TempDir dir;
  testing::WriteFile(dir.path() + "/00000000", "");
  testing::WriteFile(dir.path() + "/00000002", "");
  EXPECT_TRUE(WL::Open(dir.path(), Options{}, Logger()).status().Is(StatusCode::kCorruption));
  Options o;
  o.segment_size = kPageSize + 1;
  EXPECT_TRUE(WL::Open(dir.path() + "/x", o, Logger()).status().Is(StatusCode::kBadData));
}

// What the head relies on: a record acknowledged by Log survives kill -9 of the process.
TEST(WLTest, LoggedRecordsSurviveKill9) {
  TempDir dir;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Options o;
    auto wl = WL::Open(dir.path(), o, Logger(LogLevel::kError));
    if (!wl.ok()) _exit(1);
    for (int i = 0; i < 100; i++) {
      if (!(*wl)->Log(MakeRecord(i * 97, i, i % 2 == 0)).ok()) _exit(2);
    }
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.records.size(), 100u);
  for (int i = 0; i < 100; i++) EXPECT_EQ(got.records[i], MakeRecord(i * 97, i, i % 2 == 0));
  // The unpadded segment left behind stays readable when a restart appends after it.
  EXPECT_NE(ReadFile(SegmentName(dir.path(), 0)).size() % kPageSize, 0u);
  auto wl = MustOpen(dir.path(), true);
  EXPECT_EQ(wl->current_segment(), 1);
  ASSERT_TRUE(wl->Log("after restart").ok());
  ASSERT_TRUE(wl->Close().ok());
  got = ReadAll(dir.path());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.records.size(), 101u);
  EXPECT_EQ(got.records.back(), "after restart");
}

// A write that fails (here: the file size limit, as with a full disk) is reported, and the
// records acknowledged before it survive: the torn one is cut off by Repair.
TEST(WLTest, FailedWriteKeepsAcknowledgedRecords) {
  TempDir dir;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{100000, 100000};
    setrlimit(RLIMIT_FSIZE, &limit);
    auto wl = WL::Open(dir.path(), Options{}, Logger(LogLevel::kError));
    int acked = 0;
    Status s;
    while (wl.ok() && (s = (*wl)->Log(MakeRecord(3000, acked, false))).ok()) acked++;
    const bool io_error = s.Is(StatusCode::kIOError);
    const bool counted = (*wl)->metrics().writes_failed.Value() == 1;
    const int report[3] = {acked, io_error, counted};
    (void)!write(pipefd[1], report, sizeof report);
    _exit(0);
  }
  close(pipefd[1]);
  int report[3] = {0, 0, 0};
  ASSERT_EQ(read(pipefd[0], report, sizeof report), ssize_t{sizeof report});
  close(pipefd[0]);
  waitpid(pid, nullptr, 0);
  const int acked = report[0];
  EXPECT_GT(acked, 20);
  EXPECT_TRUE(report[1]) << "Log should fail with kIOError";
  EXPECT_TRUE(report[2]) << "writes_failed_total should count the failure";
  auto got = ReadAll(dir.path());
  ASSERT_GE(got.records.size(), size_t(acked));
  for (int i = 0; i < acked; i++) EXPECT_EQ(got.records[i], MakeRecord(3000, i, false));
  if (!got.status.ok()) {
    auto wl = MustOpen(dir.path(), true);
    ASSERT_TRUE(wl->Repair(got.corruption).ok());
    ASSERT_TRUE(wl->Close().ok());
    got = ReadAll(dir.path());
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  }
  EXPECT_EQ(got.records.size(), size_t(acked));
}

// Concurrent appenders: every record lands exactly once and each thread's records keep
// their order.
TEST(WLTest, ConcurrentLogs) {
  TempDir dir;
  auto wl = MustOpen(dir.path(), true);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; id++) {
    threads.emplace_back([&wl, id] {
      for (int i = 0; i < kPerThread; i++) {
        const std::string rec = std::to_string(id) + ":" + std::to_string(i) + ":" +
                                MakeRecord((i * 37) % 5000, i, i % 3 == 0);
        const std::vector<std::string> batch = {rec, rec};
        ASSERT_TRUE(wl->Log(std::span<const std::string>(batch)).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(wl->Close().ok());
  auto got = ReadAll(dir.path());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.records.size(), size_t{2 * kThreads * kPerThread});
  std::vector<int> next(kThreads, 0);
  for (size_t r = 0; r < got.records.size(); r += 2) {
    EXPECT_EQ(got.records[r], got.records[r + 1]) << "a batch was interleaved";
    const std::string& rec = got.records[r];
    const int id = std::stoi(rec.substr(0, rec.find(':')));
    const int i = std::stoi(rec.substr(rec.find(':') + 1));
    EXPECT_EQ(i, next[id]++);
    EXPECT_EQ(rec.substr(rec.find(':', rec.find(':') + 1) + 1),
              MakeRecord((i * 37) % 5000, i, i % 3 == 0));
  }
}

TEST(WLTest, MetricsAreExported) {
  TempDir dir;
  auto registry = std::make_shared<prometheus::Registry>();
  auto wl = MustOpen(dir.path(), false, kSmallSegment, registry.get());
  ASSERT_TRUE(wl->Log(MakeRecord(3 * kPageSize, 1, false)).ok());
  ASSERT_TRUE(wl->NextSegment().ok());
  ASSERT_TRUE(wl->Sync().ok());
  ASSERT_TRUE(wl->Truncate(1).ok());
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_NE(text.find("prometheus_tsdb_wal_completed_pages_total 4"), std::string::npos) << text;
  EXPECT_NE(text.find("prometheus_tsdb_wal_segment_current 1"), std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_wal_truncations_total 1"), std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_wal_fsync_duration_seconds_count 2"), std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_wal_page_flushes_total"), std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_wal_writes_failed_total 0"), std::string::npos);
}

}  // namespace
}  // namespace kiln::tsdb::wlog
