#include "pkg/tsdb/block/meta.h"

#include <gtest/gtest.h>

#include <set>

#include "pkg/tsdb/block/test_util.h"
#include "pkg/tsdb/block/ulid.h"

namespace kiln::tsdb::block {
namespace {

using testing::ReadFileOrEmpty;
using testing::TempDir;
using testing::TestdataPath;

// meta.json as promtool 2.42 wrote it: parsing and printing it again gives the same bytes.
TEST(MetaTest, PromtoolGoldenRoundTrips) {
  const std::string golden = ReadFileOrEmpty(TestdataPath("promtool_meta.json"));
  ASSERT_FALSE(golden.empty());
  auto m = MetaFromJson(golden);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m.value().ulid, "01M80A90B6JFS5ZWJZVXBXQJNG");
  EXPECT_EQ(m.value().min_time, 1000000);
  EXPECT_EQ(m.value().max_time, 1015001);
  EXPECT_EQ(m.value().stats.num_samples, 4u);
  EXPECT_EQ(m.value().stats.num_series, 3u);
  EXPECT_EQ(m.value().stats.num_chunks, 3u);
  EXPECT_EQ(m.value().compaction.level, 1);
  EXPECT_EQ(MetaToJson(m.value()), golden);
}

TEST(MetaTest, OptionalFieldsRoundTripThroughDisk) {
  TempDir dir;
  BlockMeta m;
  m.ulid = NewUlid(1234);
  m.min_time = -5;
  m.max_time = 7200000;
  m.stats = {10, 2, 3, 4};
  m.compaction.level = 3;
  m.compaction.sources = {"A", "B"};
  m.compaction.parents = {{"P1", 0, 10}, {"P2", 10, 20}};
  m.compaction.deletable = true;
  ASSERT_TRUE(WriteMeta(dir.path(), m).ok());
  auto back = ReadMeta(dir.path());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(MetaToJson(back.value()), MetaToJson(m));
  EXPECT_EQ(back.value().stats.num_tombstones, 4u);
  ASSERT_EQ(back.value().compaction.parents.size(), 2u);
  EXPECT_EQ(back.value().compaction.parents[1].max_time, 20);
  EXPECT_NE(MetaToJson(m).find("\"numTombstones\": 4"), std::string::npos);
}

TEST(MetaTest, RejectsBadInput) {
  EXPECT_FALSE(MetaFromJson("{").ok());
  EXPECT_FALSE(MetaFromJson(R"({"ulid":"x","version":2})").ok());
  EXPECT_FALSE(MetaFromJson(R"({"ulid":"x","minTime":"no","version":1})").ok());
  TempDir dir;
  EXPECT_EQ(ReadMeta(dir.path()).status().code(), StatusCode::kNotFound);
}

TEST(UlidTest, EncodesTimeAndSortsByIt) {
  // A ULID promtool generated; its time decoded independently.
  EXPECT_EQ(UlidTime("01M80A90B6JFS5ZWJZVXBXQJNG"), 1795307110758u);
  std::set<std::string> seen;
  std::string prev;
  for (int64_t ms : {0LL, 1LL, 1700000000000LL, 1700000000001LL, (1LL << 48) - 1}) {
    const std::string u = NewUlid(ms);
    ASSERT_EQ(u.size(), 26u);
    EXPECT_EQ(UlidTime(u), static_cast<uint64_t>(ms)) << u;
    EXPECT_LT(prev, u);
    prev = u;
    seen.insert(u);
    seen.insert(NewUlid(ms));
  }
  EXPECT_EQ(seen.size(), 10u);                                       // random parts differ
  EXPECT_FALSE(UlidTime("01M80A90B6JFS5ZWJZVXBXQJN").has_value());   // short
  EXPECT_FALSE(UlidTime("01M80A90B6JFS5ZWJZVXBXQJNU").has_value());  // U not Crockford
  EXPECT_FALSE(UlidTime("81M80A90B6JFS5ZWJZVXBXQJNG").has_value());  // > 128 bits
}

}  // namespace
}  // namespace kiln::tsdb::block
