#include "pkg/tsdb/block/compactor.h"

#include <gtest/gtest.h>

#include "pkg/storage/series_list.h"
#include "pkg/tsdb/block/block.h"
#include "pkg/tsdb/block/block_writer.h"
#include "pkg/tsdb/block/test_util.h"

namespace kiln::tsdb::block {
namespace {

constexpr int64_t kH = 3600 * 1000;

struct PlanCase {
  const char* name;
  std::vector<std::pair<int64_t, int64_t>> blocks;  // [min, max) in hours; dir = index
  std::vector<std::string> want;
};

// Ranges 2h, 6h, 18h, as upstream's planning tests use.
TEST(CompactorTest, PlanTable) {
  const std::vector<PlanCase> cases = {
      {"empty", {}, {}},
      {"single block", {{0, 2}}, {}},
      {"two blocks: newest left out", {{0, 2}, {2, 4}}, {}},
      {"three fill 6h, newest beyond", {{0, 2}, {2, 4}, {4, 6}, {6, 8}}, {"0", "1", "2"}},
      {"three fill 6h and are newest", {{0, 2}, {2, 4}, {4, 6}}, {}},
      {"gap still before newest", {{0, 2}, {4, 6}, {6, 8}}, {"0", "1"}},
      {"6h blocks into 18h", {{0, 6}, {6, 12}, {12, 18}, {18, 20}}, {"0", "1", "2"}},
      {"overlapping first", {{0, 2}, {1, 3}, {4, 6}}, {"0", "1"}},
      {"overlap in the middle", {{0, 2}, {2, 4}, {3, 5}, {6, 8}}, {"1", "2"}},
  };
  LeveledCompactor c(ExponentialBlockRanges(2 * kH, 3, 3));
  for (const auto& pc : cases) {
    std::vector<DirMeta> metas;
    for (size_t i = 0; i < pc.blocks.size(); i++) {
      BlockMeta m;
      m.min_time = pc.blocks[i].first * kH;
      m.max_time = pc.blocks[i].second * kH;
      m.stats.num_series = 1;
      metas.push_back({std::to_string(i), m});
    }
    EXPECT_EQ(c.PlanMetas(metas), pc.want) << pc.name;
  }
}

TEST(CompactorTest, TombstonedBigBlockIsRewritten) {
  LeveledCompactor c(ExponentialBlockRanges(2 * kH, 3, 3));
  BlockMeta big, newest;
  big.min_time = 0, big.max_time = 18 * kH, big.stats.num_series = 10, big.stats.num_tombstones = 1;
  newest.min_time = 18 * kH, newest.max_time = 20 * kH;
  EXPECT_EQ(c.PlanMetas({{"big", big}, {"new", newest}}), std::vector<std::string>{"big"});
  big.stats.num_series = 100;  // 1/101 is under 5%
  EXPECT_TRUE(c.PlanMetas({{"big", big}, {"new", newest}}).empty());
}

std::unique_ptr<storage::SeriesSet> OneSeries(const std::string& a, int64_t from, int64_t to,
                                              double v) {
  std::vector<model::Sample> s;
  for (int64_t t = from; t < to; t += 1000) s.push_back({t, v});
  std::vector<std::unique_ptr<storage::Series>> out;
  out.push_back(std::make_unique<storage::VectorSeries>(model::Labels{{"a", a}}, s));
  return std::make_unique<storage::VectorSeriesSet>(std::move(out));
}

TEST(CompactorTest, CompactMergesOverlapsAndDropsTombstones) {
  testing::TempDir dir;
  auto s1 = OneSeries("x", 0, 600000, 1);
  auto m1 = WriteBlock(dir.path(), s1.get(), 0, 600000).value();
  auto s2 = OneSeries("x", 300000, 900000, 2);  // overlaps m1 by 5 minutes
  auto m2 = WriteBlock(dir.path(), s2.get(), 300000, 900000).value();
  auto s3 = OneSeries("y", 0, 900000, 3);
  auto m3 = WriteBlock(dir.path(), s3.get(), 0, 900000).value();
  auto b3 = Block::Open(dir.path() + "/" + m3.ulid).value();
  ASSERT_TRUE(
      b3->Delete(0, 899999, {model::Matcher::Make(model::MatchType::kEqual, "a", "y").value()})
          .ok());

  LeveledCompactor c(ExponentialBlockRanges(2 * kH, 3, 3));
  const auto plan = c.Plan(dir.path());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan.value().size(), 3u);  // all three overlap
  auto merged = c.Compact(dir.path(), plan.value());
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  const BlockMeta& m = merged.value();
  EXPECT_EQ(m.min_time, 0);
  EXPECT_EQ(m.max_time, 900000);
  EXPECT_EQ(m.compaction.level, 2);
  EXPECT_EQ(m.compaction.parents.size(), 3u);
  EXPECT_EQ(m.compaction.sources.size(), 3u);
  EXPECT_EQ(m.stats.num_series, 1u);     // y was deleted entirely
  EXPECT_EQ(m.stats.num_samples, 900u);  // x: one sample per second, overlap once

  auto b = Block::Open(dir.path() + "/" + m.ulid).value();
  auto q = b->NewQuerier(0, 900000).value();
  auto set =
      q->Select(true, nullptr, {model::Matcher::Make(model::MatchType::kEqual, "a", "x").value()});
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  int64_t n = 0;
  while (it->Next() != chunkenc::ValueType::kNone) {
    // The first block listed wins where both have a sample.
    EXPECT_EQ(it->At().second, it->AtT() < 600000 ? 1 : 2) << it->AtT();
    n++;
  }
  EXPECT_EQ(n, 900);
}

}  // namespace
}  // namespace kiln::tsdb::block
