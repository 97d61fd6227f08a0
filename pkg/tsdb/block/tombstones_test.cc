#include "pkg/tsdb/block/tombstones.h"

#include <gtest/gtest.h>

#include "pkg/tsdb/block/test_util.h"

namespace kiln::tsdb::block {
namespace {

struct AddCase {
  Intervals before;
  Interval add;
  Intervals after;
};

TEST(TombstonesTest, AddIntervalMergesOverlappingAndAdjacent) {
  const std::vector<AddCase> cases = {
      {{}, {1, 2}, {{1, 2}}},
      {{{1, 2}}, {3, 4}, {{1, 4}}},          // adjacent
      {{{1, 2}}, {5, 6}, {{1, 2}, {5, 6}}},  // disjoint after
      {{{5, 6}}, {1, 2}, {{1, 2}, {5, 6}}},  // disjoint before
      {{{1, 2}, {5, 6}}, {2, 5}, {{1, 6}}},  // bridges two
      {{{1, 2}, {5, 6}, {9, 10}}, {4, 4}, {{1, 2}, {4, 6}, {9, 10}}},
      {{{1, 10}}, {3, 4}, {{1, 10}}},  // contained
      {{{3, 4}}, {1, 10}, {{1, 10}}},  // contains
      {{{-10, -5}}, {-4, 0}, {{-10, 0}}},
  };
  for (const auto& c : cases) {
    Intervals ivs = c.before;
    AddInterval(&ivs, c.add);
    EXPECT_EQ(ivs, c.after) << c.add.mint << "," << c.add.maxt;
  }
  const Intervals ivs = {{1, 2}, {5, 6}};
  EXPECT_FALSE(IsDeleted(ivs, 0));
  EXPECT_TRUE(IsDeleted(ivs, 1));
  EXPECT_TRUE(IsDeleted(ivs, 2));
  EXPECT_FALSE(IsDeleted(ivs, 3));
  EXPECT_TRUE(IsDeleted(ivs, 6));
  EXPECT_FALSE(IsDeleted(ivs, 7));
}

TEST(TombstonesTest, EmptyFileIsPromtoolsBytes) {
  EXPECT_EQ(Tombstones().Encode(),
            testing::ReadFileOrEmpty(testing::TestdataPath("promtool_empty_tombstones")));
}

TEST(TombstonesTest, RoundTripAndCorruption) {
  Tombstones t;
  t.Add(16, {-100, 200});
  t.Add(16, {500, 600});
  t.Add(3, {0, 0});
  t.Add(1ull << 40, {1LL << 50, (1LL << 50) + 1});
  EXPECT_EQ(t.NumIntervals(), 4u);
  testing::TempDir dir;
  ASSERT_TRUE(t.WriteDir(dir.path()).ok());
  auto back = Tombstones::ReadDir(dir.path());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back.value().all(), t.all());
  ASSERT_NE(back.value().Get(16), nullptr);
  EXPECT_EQ(back.value().Get(16)->size(), 2u);
  EXPECT_EQ(back.value().Get(4), nullptr);

  const std::string enc = t.Encode();
  for (size_t i = 0; i < enc.size(); i++) {
    std::string bad = enc;
    bad[i] ^= 0x20;
    EXPECT_EQ(Tombstones::Decode(bad).status().code(), StatusCode::kCorruption) << i;
  }
  for (size_t n = 0; n < enc.size(); n++) {
    EXPECT_FALSE(Tombstones::Decode(enc.substr(0, n)).ok()) << n;
  }
  // No file: no tombstones (upstream treats a missing file as empty).
  testing::TempDir empty;
  auto none = Tombstones::ReadDir(empty.path());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.value().empty());
}

}  // namespace
}  // namespace kiln::tsdb::block
