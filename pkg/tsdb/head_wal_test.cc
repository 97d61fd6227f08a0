// Restart from the WAL: exactly the committed samples come back, with series refs,
// metadata, and a repaired tail after corruption.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"

namespace kiln::tsdb {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;
using testing::ReadAll;
using testing::SeriesSamples;
using testing::TempDir;

const Matcher kAll = Matcher::Make(MatchType::kRegexMatch, "__name__", ".+").value();

Result<std::unique_ptr<Head>> Open(const std::string& dir) {
  HeadOptions o;
  o.dir = dir;
  o.stripe_size = 64;
  o.logger = Logger(LogLevel::kError);
  return Head::Open(o);
}

SeriesSamples QueryAll(Head* head) {
  auto q = std::move(head->NewQuerier(std::numeric_limits<int64_t>::min(),
                                      std::numeric_limits<int64_t>::max()))
               .value();
  return ReadAll(q->Select(true, nullptr, {kAll}).get());
}

void ExpectSame(const SeriesSamples& got, const SeriesSamples& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [ls, samples] : want) {
    auto it = got.find(ls);
    ASSERT_NE(it, got.end()) << ls;
    ASSERT_EQ(it->second.size(), samples.size()) << ls;
    for (size_t i = 0; i < samples.size(); ++i) {
      EXPECT_EQ(it->second[i].t, samples[i].t) << ls;
      EXPECT_EQ(std::memcmp(&it->second[i].v, &samples[i].v, sizeof(double)), 0) << ls;
    }
  }
}

TEST(HeadWalTest, RestartReturnsExactlyTheCommittedSamples) {
  TempDir dir;
  SeriesSamples want;
  storage::SeriesRef ref_a = 0;
  model::Metadata meta{model::MetricType::kGauge, "A gauge.", "bytes"};
  Labels a{{"__name__", "a"}, {"job", "x"}};
  const int64_t kLast = 600 * 15000;  // after every sample of the batches
  {
    auto head = std::move(Open(dir.path())).value();
    for (int batch = 0; batch < 20; ++batch) {
      auto app = head->NewAppender();
      for (int s = 0; s < 10; ++s) {
        Labels ls{{"__name__", "m"}, {"s", std::to_string(s)}};
        for (int i = 0; i < 30; ++i) {
          int64_t t = (batch * 30 + i) * 15000;
          double v = batch * 1000 + s * 10 + i + 0.25;
          if (i == 29 && s == 3) v = model::StaleNaN();
          ASSERT_TRUE(app->Append(0, ls, t, v).ok());
          if (batch % 5 != 4) want[ls.ToString()].push_back({t, v});
        }
      }
      if (batch % 5 == 4) {
        ASSERT_TRUE(app->Rollback().ok());
      } else {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    auto app = head->NewAppender();
    ref_a = *app->Append(0, a, kLast, 1);
    ASSERT_TRUE(app->UpdateMetadata(ref_a, a, meta).ok());
    ASSERT_TRUE(app->Commit().ok());
    want[a.ToString()].push_back({kLast, 1});
    // A series created by a rolled-back append comes back without samples.
    app = head->NewAppender();
    ASSERT_TRUE(app->Append(0, Labels{{"__name__", "ghost"}}, kLast, 2).ok());
    ASSERT_TRUE(app->Rollback().ok());
    ExpectSame(QueryAll(head.get()), want);
    ASSERT_TRUE(head->Close().ok());
  }
  auto head = std::move(Open(dir.path())).value();
  ExpectSame(QueryAll(head.get()), want);
  // One segment from the first run; the reopened WAL starts the next one.
  WalReplayProgress progress = head->ReplayProgress();
  EXPECT_EQ(progress.first, 0);
  EXPECT_EQ(progress.last, 1);
  EXPECT_EQ(progress.current, 1);
  EXPECT_EQ(head->NumSeries(), 12u);
  model::Metadata got;
  ASSERT_TRUE(head->GetMetadata(a, &got));
  EXPECT_EQ(got, meta);
  // Refs survive the restart; new series get refs above every replayed one.
  auto app = head->NewAppender();
  EXPECT_EQ(*app->Append(0, a, kLast + 1, 2), ref_a);
  auto fresh = app->Append(0, Labels{{"__name__", "fresh"}}, kLast + 1, 2);
  EXPECT_GT(*fresh, ref_a);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->MaxTime(), kLast + 1);
}

// Flips the last non-zero byte of the newest non-empty segment: the record holding it
// fails its CRC.
void CorruptLastRecord(const std::string& wal_dir) {
  std::vector<std::filesystem::path> segs;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir)) {
    if (e.is_regular_file() && std::filesystem::file_size(e.path()) > 0) segs.push_back(e);
  }
  std::sort(segs.begin(), segs.end());
  ASSERT_FALSE(segs.empty());
  std::fstream f(segs.back(), std::ios::in | std::ios::out | std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t pos = data.find_last_not_of('\0');
  ASSERT_NE(pos, std::string::npos);
  f.seekp(static_cast<std::streamoff>(pos));
  f.put(static_cast<char>(data[pos] ^ 0x5a));
}

TEST(HeadWalTest, CorruptTailIsRepairedAndEarlierDataKept) {
  TempDir dir;
  Labels ls{{"__name__", "m"}};
  {
    auto head = std::move(Open(dir.path())).value();
    auto app = head->NewAppender();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(app->Append(0, ls, i, i).ok());
    ASSERT_TRUE(app->Commit().ok());
    app = head->NewAppender();
    for (int i = 10; i < 20; ++i) ASSERT_TRUE(app->Append(0, ls, i, i).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(head->Close().ok());
  }
  CorruptLastRecord(dir.path() + "/wal");
  {
    auto head = Open(dir.path());
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    SeriesSamples got = QueryAll(head->get());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.begin()->second.size(), 10u);
    // The repaired WAL takes new writes, and they survive another restart.
    auto app = (*head)->NewAppender();
    ASSERT_TRUE(app->Append(0, ls, 100, 100).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE((*head)->Close().ok());
  }
  auto head = std::move(Open(dir.path())).value();
  EXPECT_EQ(QueryAll(head.get()).begin()->second.size(), 11u);
}

}  // namespace
}  // namespace kiln::tsdb
