#include "pkg/tsdb/db.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include <prometheus/registry.h>

#include "pkg/storage/series_list.h"
#include "pkg/tsdb/block/block_writer.h"
#include "pkg/tsdb/block/test_util.h"
#include "pkg/tsdb/block/ulid.h"

namespace kiln::tsdb {
namespace {

namespace fs = std::filesystem;
using block::testing::RunCommand;
using block::testing::TempDir;

constexpr int64_t kH = 3600 * 1000;
using SeriesMap = std::map<model::Labels, std::vector<model::Sample>>;

DBOptions TestOptions() {
  DBOptions o;
  o.background_compaction = false;
  o.head.stripe_size = 64;
  o.logger = Logger(LogLevel::kError);
  return o;
}

// `series` series with one sample every `step` ms in [from, to).
SeriesMap MakeData(int series, int64_t from, int64_t to, int64_t step) {
  SeriesMap m;
  for (int i = 0; i < series; i++) {
    auto& v = m[model::Labels{{"__name__", "m"}, {"i", std::to_string(i)}}];
    for (int64_t t = from; t < to; t += step) v.push_back({t, i + t / 1000.0});
  }
  return m;
}

void Append(storage::Appendable* db, const SeriesMap& data) {
  auto app = db->NewAppender();
  for (const auto& [l, v] : data) {
    for (const auto& s : v) ASSERT_TRUE(app->Append(0, l, s.t, s.v).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
}

SeriesMap ReadAll(storage::Queryable* q, int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
  auto qr = q->NewQuerier(mint, maxt);
  EXPECT_TRUE(qr.ok()) << qr.status().ToString();
  auto set = qr.value()->Select(
      true, nullptr,
      {model::Matcher::Make(model::MatchType::kRegexMatch, "__name__", ".+").value()});
  SeriesMap out;
  while (set->Next()) {
    auto it = set->At().Iterator();
    auto& v = out[set->At().labels()];
    while (it->Next() != chunkenc::ValueType::kNone) v.push_back({it->At().first, it->At().second});
    EXPECT_TRUE(it->err().ok());
  }
  EXPECT_TRUE(set->err().ok()) << set->err().ToString();
  return out;
}

bool Same(const SeriesMap& a, const SeriesMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [l, v] : a) {
    auto it = b.find(l);
    if (it == b.end() || it->second.size() != v.size()) return false;
    for (size_t i = 0; i < v.size(); i++) {
      if (v[i].t != it->second[i].t || v[i].v != it->second[i].v) return false;
    }
  }
  return true;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Writes `data` restricted to [mint, maxt) as a block in `dir`.
block::BlockMeta WriteBlockOf(const std::string& dir, const SeriesMap& data, int64_t mint,
                              int64_t maxt) {
  std::vector<std::unique_ptr<storage::Series>> v;
  for (const auto& [l, s] : data) v.push_back(std::make_unique<storage::VectorSeries>(l, s));
  storage::VectorSeriesSet set(std::move(v));
  auto m = block::WriteBlock(dir, &set, mint, maxt);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.value();
}

TEST(DBTest, HeadCompactionKeepsEverySampleOnceAcrossRestart) {
  TempDir dir;
  const SeriesMap data = MakeData(5, 0, 6 * kH, 60000);  // 6h: two head blocks, 2h stay in the head
  {
    auto db = DB::Open(dir.path(), TestOptions());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Append(db.value().get(), data);
    ASSERT_TRUE(db.value()->Compact().ok());
    const auto blocks = db.value()->Blocks();
    ASSERT_EQ(blocks.size(), 2u);
    EXPECT_EQ(blocks[0]->meta().min_time, 0);
    EXPECT_EQ(blocks[0]->meta().max_time, 2 * kH);
    EXPECT_EQ(blocks[1]->meta().max_time, 4 * kH);
    // The head was truncated at the second block's end.
    EXPECT_EQ(db.value()->head()->MinTime(), 4 * kH);
    EXPECT_TRUE(Same(ReadAll(db.value().get()), data));
    EXPECT_EQ(ReadAll(db.value().get(), kH, 3 * kH).begin()->second.size(), 121u);
    // A second lock on the same directory fails while the first is held.
    EXPECT_FALSE(DB::Open(dir.path(), TestOptions()).ok());
  }
  auto db = DB::Open(dir.path(), TestOptions());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(db.value()->Blocks().size(), 2u);
  EXPECT_TRUE(Same(ReadAll(db.value().get()), data));
  ASSERT_TRUE(db.value()->Compact().ok());  // nothing new to compact
  EXPECT_EQ(db.value()->Blocks().size(), 2u);
}

TEST(DBTest, HeadBlocksAreMergedLevelByLevel) {
  TempDir dir;
  const SeriesMap data = MakeData(2, 0, 16 * kH, 60000);
  auto db = std::move(DB::Open(dir.path(), TestOptions())).value();
  // 15d retention: blocks up to 10% of it (36h), so ranges 2h, 6h, 18h as upstream.
  EXPECT_EQ(db->block_ranges(), (std::vector<int64_t>{2 * kH, 6 * kH, 18 * kH}));
  Append(db.get(), data);
  ASSERT_TRUE(db->Compact().ok());
  // Head blocks up to 14h; [0,6h) and [6h,12h) merged (level 2), [12h,14h) is the newest.
  std::vector<std::tuple<int64_t, int64_t, int>> got;
  for (const auto& b : db->Blocks()) {
    got.emplace_back(b->meta().min_time, b->meta().max_time, b->meta().compaction.level);
  }
  EXPECT_EQ(got, (std::vector<std::tuple<int64_t, int64_t, int>>{
                     {0, 6 * kH, 2}, {6 * kH, 12 * kH, 2}, {12 * kH, 14 * kH, 1}}));
  EXPECT_EQ(db->Blocks()[0]->meta().compaction.sources.size(), 3u);
  EXPECT_EQ(Entries(dir.path()).size(), 3u + 3u);  // blocks + chunks_head, lock, wal
  EXPECT_TRUE(Same(ReadAll(db.get()), data));
}

TEST(DBTest, CrashLeftoversAreRemovedAndNothingIsLostOrDuplicated) {
  TempDir dir;
  const SeriesMap data = MakeData(3, 0, 2 * kH, 30000);
  const auto good = WriteBlockOf(dir.path(), data, 0, 2 * kH);
  // A crash mid-write: a half-written block under its tmp name (no meta, truncated index).
  const std::string half = dir.path() + "/" + block::NewUlid(1) + block::kTmpForCreationSuffix;
  fs::create_directories(half + "/chunks");
  fs::copy_file(dir.path() + "/" + good.ulid + "/chunks/000001", half + "/chunks/000001");
  fs::resize_file(half + "/chunks/000001", 100);
  // A crash mid-deletion.
  fs::create_directories(dir.path() + "/" + block::NewUlid(2) + block::kTmpForDeletionSuffix);
  // A crash after compaction wrote the merged block but before its parents were deleted:
  // the parent must go, its samples must not appear twice.
  const SeriesMap later = MakeData(3, 2 * kH, 4 * kH, 30000);
  const auto parent = WriteBlockOf(dir.path(), later, 2 * kH, 4 * kH);
  block::LeveledCompactor c({2 * kH, 6 * kH});
  auto merged = c.Compact(dir.path(), {dir.path() + "/" + parent.ulid});
  ASSERT_TRUE(merged.ok());

  auto db = DB::Open(dir.path(), TestOptions());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  std::vector<std::string> want = {good.ulid, merged.value().ulid, "chunks_head", "lock", "wal"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Entries(dir.path()), want);
  SeriesMap all = data;
  for (const auto& [l, v] : later) all[l].insert(all[l].end(), v.begin(), v.end());
  EXPECT_TRUE(Same(ReadAll(db.value().get()), all));
}

// A real crash: a child process writing blocks in a loop is SIGKILLed at a random moment.
// Every block that exists afterwards opens completely, and the leftover tmp dir goes.
TEST(DBTest, KilledBlockWriterLeavesOnlyWholeBlocks) {
  TempDir dir;
  const SeriesMap data = MakeData(200, 0, 2 * kH, 15000);
  for (int delay_ms : {5, 40, 120}) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (;;) WriteBlockOf(dir.path(), data, 0, 2 * kH);
    }
    usleep(delay_ms * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    auto db = DB::Open(dir.path(), TestOptions());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (const auto& e : Entries(dir.path())) {
      EXPECT_EQ(e.find(".tmp"), std::string::npos) << e;
    }
    // Nothing yet, or overlapping copies of the same data merged: every sample once.
    const size_t blocks = db.value()->Blocks().size();
    if (blocks > 0) EXPECT_TRUE(Same(ReadAll(db.value().get()), data)) << delay_ms << " " << blocks;
  }
}

TEST(DBTest, TimeRetentionDropsWholeBlocksInOneCycle) {
  TempDir dir;
  std::vector<std::string> ulids;
  for (int day = 0; day < 6; day++) {
    ulids.push_back(WriteBlockOf(dir.path(),
                                 MakeData(2, day * 24 * kH, day * 24 * kH + 2 * kH, 60000),
                                 day * 24 * kH, day * 24 * kH + 2 * kH)
                        .ulid);
  }
  DBOptions o = TestOptions();
  o.retention_duration = 3 * 24 * kH;  // keeps blocks ending within 3 days of the newest
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(db.value()->Compact().ok());
  std::vector<std::string> kept;
  for (const auto& b : db.value()->Blocks()) kept.push_back(b->meta().ulid);
  EXPECT_EQ(kept, (std::vector<std::string>{ulids[2], ulids[3], ulids[4], ulids[5]}));
  for (int i = 0; i < 2; i++) EXPECT_FALSE(fs::exists(dir.path() + "/" + ulids[i]));
  EXPECT_EQ(ReadAll(db.value().get()).begin()->second.front().t, 2 * 24 * kH);
}

TEST(DBTest, SizeRetentionStaysUnderTheLimit) {
  TempDir dir;
  uint64_t one = 0;
  {
    auto b = WriteBlockOf(dir.path(), MakeData(20, 0, 2 * kH, 15000), 0, 2 * kH);
    one = block::Block::Open(dir.path() + "/" + b.ulid).value()->Size();
  }
  DBOptions o = TestOptions();
  o.max_bytes = static_cast<int64_t>(one * 3 + one / 2);  // room for three blocks and the WAL
  auto db = DB::Open(dir.path(), o);
  ASSERT_TRUE(db.ok());
  // Writes nine blocks' worth (3× the limit) in steps, compacting after each.
  for (int i = 1; i < 9; i++) {
    WriteBlockOf(dir.path(), MakeData(20, i * 2 * kH, (i + 1) * 2 * kH, 15000), i * 2 * kH,
                 (i + 1) * 2 * kH);
    ASSERT_TRUE(db.value()->Reload().ok());
    uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
      if (e.is_regular_file()) total += e.file_size();
    }
    EXPECT_LE(total, static_cast<uint64_t>(o.max_bytes)) << "after block " << i;
    EXPECT_EQ(db.value()->Blocks().back()->meta().max_time, (i + 1) * 2 * kH);
  }
  EXPECT_EQ(db.value()->Blocks().size(), 3u);
}

TEST(DBTest, DeleteAndCleanTombstones) {
  TempDir dir;
  const SeriesMap data = MakeData(2, 0, 2 * kH, 60000);
  WriteBlockOf(dir.path(), data, 0, 2 * kH);
  auto db = std::move(DB::Open(dir.path(), TestOptions())).value();
  const auto i1 = model::Matcher::Make(model::MatchType::kEqual, "i", "1").value();
  ASSERT_TRUE(db->Delete(0, kH - 1, {i1}).ok());
  SeriesMap want = data;
  auto& v = want[model::Labels{{"__name__", "m"}, {"i", "1"}}];
  v.erase(v.begin(), v.begin() + 60);
  EXPECT_TRUE(Same(ReadAll(db.get()), want));
  const std::string before = db->Blocks()[0]->meta().ulid;
  ASSERT_TRUE(db->CleanTombstones().ok());
  ASSERT_EQ(db->Blocks().size(), 1u);
  EXPECT_NE(db->Blocks()[0]->meta().ulid, before);
  EXPECT_TRUE(db->Blocks()[0]->tombstones()->empty());
  EXPECT_EQ(db->Blocks()[0]->meta().stats.num_samples, 180u);
  EXPECT_TRUE(Same(ReadAll(db.get()), want));
}

// Appends `data` in time order, one commit per timestamp, as a scraper does (so the WAL
// spreads over segments in time order).
void AppendInTimeOrder(storage::Appendable* db, const SeriesMap& data) {
  std::map<int64_t, std::vector<std::pair<const model::Labels*, double>>> by_time;
  for (const auto& [l, v] : data) {
    for (const auto& s : v) by_time[s.t].push_back({&l, s.v});
  }
  for (const auto& [t, samples] : by_time) {
    auto app = db->NewAppender();
    for (const auto& [l, v] : samples) ASSERT_TRUE(app->Append(0, *l, t, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
}

double MetricValue(prometheus::Registry& r, const std::string& name) {
  for (const auto& f : r.Collect()) {
    if (f.name != name || f.metric.empty()) continue;
    const auto& m = f.metric[0];
    switch (f.type) {
      case prometheus::MetricType::Counter:
        return m.counter.value;
      case prometheus::MetricType::Gauge:
        return m.gauge.value;
      default:
        return -1;
    }
  }
  return -1;
}

TEST(DBTest, HeadIsTruncatedAndItsWalCheckpointedAfterCompaction) {
  TempDir dir;
  const SeriesMap data = MakeData(10, 0, 6 * kH, 15000);
  prometheus::Registry registry;
  DBOptions o = TestOptions();
  o.head.wal_segment_size = 32 * 1024;
  o.head.wal_compression = false;
  o.head.registry = &registry;
  size_t segments_before = 0;
  {
    auto db = std::move(DB::Open(dir.path(), o)).value();
    AppendInTimeOrder(db.get(), data);
    segments_before = Entries(dir.path() + "/wal").size();
    ASSERT_GE(segments_before, 4u) << "the test needs several WAL segments";
    const uint64_t series = db->head()->NumSeries();
    ASSERT_TRUE(db->Compact().ok());
    ASSERT_EQ(db->Blocks().size(), 2u);
    EXPECT_EQ(db->head()->MinTime(), 4 * kH);
    EXPECT_EQ(db->head()->NumSeries(), series);
    // The head lost its first 4h, the WAL its first segments (a checkpoint replaces them).
    const auto wal = Entries(dir.path() + "/wal");
    EXPECT_LT(wal.size(), segments_before);
    EXPECT_TRUE(std::any_of(wal.begin(), wal.end(),
                            [](const std::string& n) { return n.starts_with("checkpoint."); }));
    EXPECT_TRUE(Same(ReadAll(db.get()), data));
    // Late samples for the compacted range are rejected.
    auto app = db->NewAppender();
    EXPECT_TRUE(
        app->Append(0, data.begin()->first, 4 * kH - 1, 1).status().Is(StatusCode::kOutOfBounds));
    ASSERT_TRUE(app->Rollback().ok());
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_blocks_loaded"), 2);
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_compactions_total"), 2);
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_head_truncations_total"), 2);
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_checkpoint_creations_total"), 1);
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_lowest_timestamp"), 0);
    EXPECT_GT(MetricValue(registry, "prometheus_tsdb_storage_blocks_bytes"), 1000);
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_head_min_time_seconds"), 4 * 3600);
    EXPECT_EQ(MetricValue(registry, "prometheus_tsdb_clean_start"), 1);
  }
  // A clean close removed the lock file, as upstream's.
  EXPECT_FALSE(fs::exists(dir.path() + "/lock"));
  // Restart: blocks + checkpoint + remaining segments give every sample exactly once.
  {
    auto db = std::move(DB::Open(dir.path(), TestOptions())).value();
    EXPECT_EQ(db->head()->MinTime(), 4 * kH);
    EXPECT_TRUE(Same(ReadAll(db.get()), data));
  }
  if (block::testing::HavePromtool()) {
    int rc = 0;
    const std::string dump = RunCommand("promtool tsdb dump " + dir.path() + " 2>/dev/null", &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(static_cast<size_t>(std::count(dump.begin(), dump.end(), '\n')),
              10u * (6 * kH / 15000));
  }
}

TEST(DBTest, CommitThatMakesTheHeadCompactableWakesTheCompactionLoop) {
  TempDir dir;
  DBOptions o = TestOptions();
  o.background_compaction = true;  // the loop sleeps a minute unless woken
  auto db = std::move(DB::Open(dir.path(), o)).value();
  const SeriesMap data = MakeData(3, 0, 3 * kH + 120000, 60000);  // spans 3h01m > 1.5 ranges
  AppendInTimeOrder(db.get(), data);
  // Up to 30 s, well under the loop's one-minute sleep, so only a wake-up makes the block in
  // time; a loaded CI machine under ASan can need seconds to write it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db->Blocks().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(db->Blocks().size(), 1u);
  EXPECT_EQ(db->Blocks()[0]->meta().max_time, 2 * kH);
  EXPECT_TRUE(Same(ReadAll(db.get()), data));
}

TEST(DBTest, DeleteCoversBlocksAndHeadAndHeadCompactionHonoursIt) {
  TempDir dir;
  const SeriesMap data = MakeData(2, 0, 6 * kH, 60000);
  const auto i1 = model::Matcher::Make(model::MatchType::kEqual, "i", "1").value();
  SeriesMap want = data;
  auto& v = want[model::Labels{{"__name__", "m"}, {"i", "1"}}];
  std::erase_if(v, [](const model::Sample& s) { return s.t >= 3 * kH && s.t <= 5 * kH; });
  {
    auto db = std::move(DB::Open(dir.path(), TestOptions())).value();
    Append(db.get(), data);
    ASSERT_TRUE(db->Compact().ok());
    ASSERT_EQ(db->Blocks().size(), 2u);
    // [3h, 5h] spans the second block and the head.
    ASSERT_TRUE(db->Delete(3 * kH, 5 * kH, {i1}).ok());
    EXPECT_TRUE(Same(ReadAll(db.get()), want));
  }
  // The head's tombstone comes back from the WAL.
  auto db = std::move(DB::Open(dir.path(), TestOptions())).value();
  EXPECT_TRUE(Same(ReadAll(db.get()), want));
  // Compacting the head's [4h, 6h) leaves the deleted samples out of the block.
  const SeriesMap more = MakeData(2, 6 * kH, 8 * kH, 60000);
  Append(db.get(), more);
  ASSERT_TRUE(db->Compact().ok());
  ASSERT_GE(db->Blocks().size(), 3u);
  for (const auto& [l, s] : more) {
    auto& w = want[l];
    w.insert(w.end(), s.begin(), s.end());
  }
  EXPECT_TRUE(Same(ReadAll(db.get()), want));
  for (const auto& b : db->Blocks()) {
    if (b->meta().min_time != 4 * kH) continue;
    // 120 samples of i=0 and the 60 of i=1 in (5h, 6h).
    EXPECT_EQ(b->meta().stats.num_samples, 120u + 59u);
    EXPECT_TRUE(b->tombstones()->empty());
  }
}

std::string GoFloat(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// promtool reads what the DB wrote (blocks from head compaction plus the head's WAL), and
// Kiln reads the snapshot promtool sees identically.
TEST(DBPromtoolTest, PromtoolDumpsTheDB) {
  if (!block::testing::HavePromtool()) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  const SeriesMap data = MakeData(3, 0, 6 * kH, 120000);
  {
    auto db = std::move(DB::Open(dir.path(), TestOptions())).value();
    Append(db.get(), data);
    ASSERT_TRUE(db->Compact().ok());
    ASSERT_TRUE(db->Snapshot(dir.path() + "/snap", true).ok());
  }
  std::string want;
  for (const auto& [l, v] : data) {
    for (const auto& s : v) {
      want += l.ToString() + " " + GoFloat(s.v) + " " + std::to_string(s.t) + "\n";
    }
  }
  int rc = 0;
  EXPECT_EQ(RunCommand("promtool tsdb dump " + dir.path() + " 2>/dev/null", &rc), want);
  EXPECT_EQ(rc, 0);
  const std::string list = RunCommand("promtool tsdb list " + dir.path(), &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 3) << list;  // header + 2 blocks
  RunCommand("promtool tsdb analyze " + dir.path() + " >/dev/null 2>&1", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Entries(dir.path() + "/snap").size(), 3u);  // two compacted blocks + head block
  fs::create_directories(dir.path() + "/snap/wal");
  EXPECT_EQ(RunCommand("promtool tsdb dump " + dir.path() + "/snap 2>/dev/null", &rc), want);
}

}  // namespace
}  // namespace kiln::tsdb
