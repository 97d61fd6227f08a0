#include "pkg/tsdb/block/block.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "pkg/storage/series_list.h"
#include "pkg/tsdb/block/block_writer.h"
#include "pkg/tsdb/block/test_util.h"

namespace kiln::tsdb::block {
namespace {

namespace fs = std::filesystem;
using testing::HavePromtool;
using testing::RunCommand;
using testing::TempDir;

using SeriesMap = std::map<model::Labels, std::vector<model::Sample>>;

// Series a{i}, each with n samples every 15s from t0 and values depending on both.
SeriesMap MakeData(int series, int n, int64_t t0) {
  SeriesMap m;
  for (int i = 0; i < series; i++) {
    model::Labels l{{"__name__", i % 2 ? "odd" : "even"}, {"i", std::to_string(i)}, {"job", "j"}};
    auto& v = m[l];
    for (int k = 0; k < n; k++) v.push_back({t0 + k * 15000, i * 1000.0 + k * 0.5});
  }
  return m;
}

std::unique_ptr<storage::SeriesSet> SetOf(const SeriesMap& m) {
  std::vector<std::unique_ptr<storage::Series>> v;
  for (const auto& [l, s] : m) v.push_back(std::make_unique<storage::VectorSeries>(l, s));
  return std::make_unique<storage::VectorSeriesSet>(std::move(v));
}

SeriesMap ReadAll(storage::Queryable* q, int64_t mint, int64_t maxt,
                  const std::vector<model::Matcher>& ms) {
  auto qr = q->NewQuerier(mint, maxt);
  EXPECT_TRUE(qr.ok());
  auto set = qr.value()->Select(true, nullptr, ms);
  SeriesMap out;
  model::Labels prev;
  while (set->Next()) {
    const auto& s = set->At();
    EXPECT_LT(prev, s.labels());
    prev = s.labels();
    auto it = s.Iterator();
    auto& v = out[s.labels()];
    while (it->Next() != chunkenc::ValueType::kNone) v.push_back({it->At().first, it->At().second});
    EXPECT_TRUE(it->err().ok()) << it->err().ToString();
  }
  EXPECT_TRUE(set->err().ok()) << set->err().ToString();
  return out;
}

// Keeps samples in [mint, maxt] not in `deleted`; drops series left empty.
SeriesMap Filter(const SeriesMap& m, int64_t mint, int64_t maxt, const Intervals& deleted = {}) {
  SeriesMap out;
  for (const auto& [l, v] : m) {
    std::vector<model::Sample> keep;
    for (const auto& s : v) {
      if (s.t >= mint && s.t <= maxt && !IsDeleted(deleted, s.t)) keep.push_back(s);
    }
    if (!keep.empty()) out[l] = keep;
  }
  return out;
}

model::Matcher M(model::MatchType t, const std::string& n, const std::string& v) {
  return model::Matcher::Make(t, n, v).value();
}

bool SameSamples(const SeriesMap& a, const SeriesMap& b) {
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

TEST(BlockTest, WriteOpenQueryDelete) {
  TempDir dir;
  const SeriesMap data = MakeData(6, 400, 0);  // 400 samples: 4 chunks per series
  auto set = SetOf(data);
  auto meta = WriteBlock(dir.path(), set.get(), 0, 7200000);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta.value().stats.num_series, 6u);
  EXPECT_EQ(meta.value().stats.num_samples, 2400u);
  EXPECT_EQ(meta.value().stats.num_chunks, 24u);
  EXPECT_EQ(meta.value().compaction.sources, std::vector<std::string>{meta.value().ulid});

  const std::string bdir = dir.path() + "/" + meta.value().ulid;
  auto b = Block::Open(bdir);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(MetaToJson(b.value()->meta()), MetaToJson(meta.value()));
  EXPECT_GT(b.value()->Size(), 0u);

  const auto all = M(model::MatchType::kRegexMatch, "job", ".+");
  EXPECT_TRUE(SameSamples(ReadAll(b.value().get(), 0, 7200000, {all}), data));
  // Ranges that cut chunks in the middle.
  EXPECT_TRUE(
      SameSamples(ReadAll(b.value().get(), 100000, 2000000, {all}), Filter(data, 100000, 2000000)));
  const auto odd = M(model::MatchType::kEqual, "__name__", "odd");
  EXPECT_EQ(ReadAll(b.value().get(), 0, 7200000, {odd}).size(), 3u);

  auto q = b.value()->NewQuerier(0, 7200000).value();
  EXPECT_EQ(q->LabelNames({}, {}).value(), (std::vector<std::string>{"__name__", "i", "job"}));
  EXPECT_EQ(q->LabelValues("i", {}, {odd}).value(), (std::vector<std::string>{"1", "3", "5"}));

  // Seek lands on the first sample at or after the target, across chunks.
  auto s = q->Select(true, nullptr, {odd});
  ASSERT_TRUE(s->Next());
  auto it = s->At().Iterator();
  ASSERT_EQ(it->Seek(15000 * 250 + 1), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->AtT(), 15000 * 251);
  ASSERT_EQ(it->Seek(0), chunkenc::ValueType::kFloat);  // never moves back
  EXPECT_EQ(it->AtT(), 15000 * 251);
  EXPECT_EQ(it->Seek(15000 * 400), chunkenc::ValueType::kNone);

  // Tombstones: persisted, applied on reopen, and series fully deleted disappear.
  ASSERT_TRUE(b.value()->Delete(30000, 1000000, {odd}).ok());
  const auto i0 = M(model::MatchType::kEqual, "i", "0");
  ASSERT_TRUE(b.value()->Delete(-1000, 8000000, {i0}).ok());
  auto reopened = Block::Open(bdir);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened.value()->meta().stats.num_tombstones, 4u);
  SeriesMap expect;
  for (const auto& [l, v] : data) {
    if (l.Get("i") == "0") continue;
    SeriesMap one{{l, v}};
    const Intervals del = l.Get("__name__") == "odd" ? Intervals{{30000, 1000000}} : Intervals{};
    for (auto& [l2, v2] : Filter(one, 0, 7200000, del)) expect[l2] = v2;
  }
  EXPECT_TRUE(SameSamples(ReadAll(reopened.value().get(), 0, 7200000, {all}), expect));
}

TEST(BlockTest, EmptyRangeWritesNothingAndErrorsLeaveNoDirectory) {
  TempDir dir;
  auto set = SetOf(MakeData(2, 10, 0));
  auto meta = WriteBlock(dir.path(), set.get(), 1000000, 2000000);
  ASSERT_TRUE(meta.ok());
  EXPECT_TRUE(meta.value().ulid.empty());
  EXPECT_TRUE(fs::is_empty(dir.path()));

  // A source failing midway: no block and no tmp directory remain.
  std::vector<std::unique_ptr<storage::Series>> v;
  v.push_back(std::make_unique<storage::VectorSeries>(model::Labels{{"a", "1"}},
                                                      std::vector<model::Sample>{{1, 1}}));
  storage::VectorSeriesSet good(std::move(v));
  struct FailingSet : storage::SeriesSet {
    storage::SeriesSet* inner;
    bool Next() override { return inner->Next(); }
    const storage::Series& At() const override { return inner->At(); }
    Status err() const override { return Status::IOError("disk on fire"); }
  } failing;
  failing.inner = &good;
  auto bad = WriteBlock(dir.path(), &failing, 0, 10);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

std::string WriteOpenMetrics(const std::string& path, const SeriesMap& data) {
  std::ofstream f(path);
  for (const auto& [l, v] : data) {
    for (const auto& s : v) {
      // OpenMetrics timestamps are seconds.
      f << l.MetricName() << "{i=\"" << l.Get("i") << "\",job=\"j\"} " << s.v << " " << (s.t / 1000)
        << "." << (s.t % 1000 / 100) << (s.t % 100 / 10) << (s.t % 10) << "\n";
    }
  }
  f << "# EOF\n";
  return path;
}

// Blocks promtool backfilled are read exactly; promtool reads Kiln's block of the same data
// and dumps identical text.
TEST(BlockPromtoolTest, ReadsPromtoolBlocksAndPromtoolReadsOurs) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  const SeriesMap data = MakeData(4, 300, 1700000000000);
  const std::string in = WriteOpenMetrics(dir.path() + "/in.om", data);
  int rc = 0;
  RunCommand("promtool tsdb create-blocks-from openmetrics " + in + " " + dir.path() + "/prom 2>&1",
             &rc);
  ASSERT_EQ(rc, 0);
  SeriesMap got;
  for (const auto& e : fs::directory_iterator(dir.path() + "/prom")) {
    auto b = Block::Open(e.path().string());
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    for (auto& [l, v] : ReadAll(b.value().get(), INT64_MIN, INT64_MAX,
                                {M(model::MatchType::kRegexMatch, "job", ".*")})) {
      auto& dst = got[l];
      dst.insert(dst.end(), v.begin(), v.end());
    }
  }
  EXPECT_TRUE(SameSamples(got, data));

  fs::create_directories(dir.path() + "/kiln/wal");
  fs::create_directories(dir.path() + "/prom/wal");
  auto set = SetOf(data);
  auto meta = WriteBlock(dir.path() + "/kiln", set.get(), 1700000000000, 1700000000000 + 7200000);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  const std::string theirs = RunCommand("promtool tsdb dump " + dir.path() + "/prom", &rc);
  ASSERT_EQ(rc, 0);
  const std::string ours = RunCommand("promtool tsdb dump " + dir.path() + "/kiln", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(ours, theirs);
  EXPECT_EQ(std::count(ours.begin(), ours.end(), '\n'), 1200);
  const std::string list = RunCommand("promtool tsdb list " + dir.path() + "/kiln", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(list.find(meta.value().ulid), std::string::npos) << list;
  RunCommand("promtool tsdb analyze " + dir.path() + "/kiln >/dev/null 2>&1", &rc);
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace kiln::tsdb::block
