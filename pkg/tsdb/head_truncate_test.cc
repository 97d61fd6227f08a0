// Head truncation (chunks, series GC, WAL checkpoint) and deletion (tombstones): what is
// dropped is gone from memory, the WAL and a restart; what is kept comes back exactly; and
// Prometheus's promtool reads the truncated WAL.
#include <gtest/gtest.h>
#include <stdio.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"
#include "pkg/tsdb/wlog/checkpoint.h"
#include "pkg/util/float_format.h"

namespace kiln::tsdb {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;
using testing::ReadAll;
using testing::SeriesSamples;
using testing::TempDir;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStep = 15000;
constexpr int kSeries = 10;  // of each kind
const Matcher kAll = Matcher::Make(MatchType::kRegexMatch, "__name__", ".+").value();

Result<std::unique_ptr<Head>> Open(const std::string& dir,
                                   int64_t min_valid_time = std::numeric_limits<int64_t>::min()) {
  HeadOptions o;
  o.dir = dir;
  o.stripe_size = 64;
  o.chunk_range = kHour;
  // Small segments, so a few hours of samples span many and checkpoints have work to do.
  o.wal_segment_size = 32 * 1024;
  o.wal_compression = false;
  o.min_valid_time = min_valid_time;
  o.logger = Logger(LogLevel::kError);
  return Head::Open(o);
}

SeriesSamples Query(Head* head, int64_t mint = std::numeric_limits<int64_t>::min(),
                    int64_t maxt = std::numeric_limits<int64_t>::max(), const Matcher& m = kAll) {
  auto q = std::move(head->NewQuerier(mint, maxt)).value();
  return ReadAll(q->Select(true, nullptr, {m}).get());
}

// Series "keep{s}" have samples every 15s over [0, 6h); series "old{s}" only over [0, 3h).
// Appended in time order, one commit per step, as a scraper would.
SeriesSamples Fill(Head* head) {
  SeriesSamples all;
  for (int64_t t = 0; t < 6 * kHour; t += kStep) {
    auto app = head->NewAppender();
    for (int s = 0; s < kSeries; ++s) {
      Labels keep{{"__name__", "keep"}, {"s", std::to_string(s)}};
      const double v = static_cast<double>(t / kStep) + s * 0.5;
      EXPECT_TRUE(app->Append(0, keep, t, v).ok());
      all[keep.ToString()].push_back({t, v});
      if (t < 3 * kHour) {
        Labels old{{"__name__", "old"}, {"s", std::to_string(s)}};
        EXPECT_TRUE(app->Append(0, old, t, -v).ok());
        all[old.ToString()].push_back({t, -v});
      }
    }
    EXPECT_TRUE(app->Commit().ok());
  }
  return all;
}

SeriesSamples From(const SeriesSamples& all, int64_t mint) {
  SeriesSamples out;
  for (const auto& [ls, samples] : all) {
    for (const auto& s : samples) {
      if (s.t >= mint) out[ls].push_back(s);
    }
  }
  return out;
}

void ExpectSame(const SeriesSamples& got, const SeriesSamples& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [ls, samples] : want) {
    auto it = got.find(ls);
    ASSERT_NE(it, got.end()) << ls;
    ASSERT_EQ(it->second.size(), samples.size()) << ls;
    for (size_t i = 0; i < samples.size(); ++i) {
      ASSERT_EQ(it->second[i].t, samples[i].t) << ls;
      ASSERT_EQ(std::memcmp(&it->second[i].v, &samples[i].v, sizeof(double)), 0) << ls;
    }
  }
}

std::vector<std::string> WalEntries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/wal")) {
    names.insert(e.path().filename().string());
  }
  return {names.begin(), names.end()};
}

TEST(HeadTruncateTest, DropsOldChunksSeriesAndWalSegments) {
  TempDir dir;
  const int64_t mint = 4 * kHour;
  SeriesSamples all;
  {
    auto head = std::move(Open(dir.path())).value();
    all = Fill(head.get());
    ASSERT_EQ(head->NumSeries(), 2u * kSeries);
    auto before = WalEntries(dir.path());
    ASSERT_GT(before.size(), 6u) << "the test needs several WAL segments";

    ASSERT_TRUE(head->Truncate(mint).ok());
    // Samples below mint are gone (chunks are cut at hour boundaries, so exactly), "old"
    // series have no samples left and are collected, with their postings.
    EXPECT_EQ(head->NumSeries(), 1u * kSeries);
    EXPECT_EQ(head->MinTime(), mint);
    ExpectSame(Query(head.get()), From(all, mint));
    EXPECT_EQ(head->postings().LabelValues("__name__"), std::vector<std::string>{"keep"});
    EXPECT_TRUE(head->postings()
                    .ForMatchers({Matcher::Make(MatchType::kEqual, "__name__", "old").value()})
                    .empty());
    // Late samples below the truncation point are out of bounds.
    auto app = head->NewAppender();
    auto late = app->Append(0, Labels{{"__name__", "keep"}, {"s", "0"}}, mint - 1, 1);
    EXPECT_TRUE(late.status().Is(StatusCode::kOutOfBounds)) << late.status().ToString();
    ASSERT_TRUE(app->Rollback().ok());

    // The first two thirds of the segments were checkpointed and deleted.
    auto cp = wlog::LastCheckpoint(dir.path() + "/wal");
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    auto bounds = std::move(wlog::Segments(dir.path() + "/wal")).value();
    EXPECT_EQ(bounds.first, cp->index + 1);
    EXPECT_LT(WalEntries(dir.path()).size(), before.size());
    // A second truncation at the same time has nothing left to do.
    ASSERT_TRUE(head->Truncate(mint).ok());
    EXPECT_EQ(std::move(wlog::LastCheckpoint(dir.path() + "/wal")).value().index, cp->index);
    ASSERT_TRUE(head->Close().ok());
  }
  // A restart with the bound the DB gives (its newest block's end) has exactly the kept data.
  {
    auto head = std::move(Open(dir.path(), mint)).value();
    ExpectSame(Query(head.get()), From(all, mint));
  }
}

TEST(HeadTruncateTest, CheckpointKeepsSeriesAndSamplesAtOrAfterMint) {
  TempDir dir;
  const int64_t mint = 4 * kHour;
  SeriesSamples all;
  {
    auto head = std::move(Open(dir.path())).value();
    all = Fill(head.get());
    ASSERT_TRUE(head->Truncate(mint).ok());
    ASSERT_TRUE(head->Close().ok());
  }
  // Without a bound the replay also returns what the segments after the checkpoint hold
  // below mint; whatever it returns must be a suffix of each series and include every
  // sample >= mint.
  auto head = std::move(Open(dir.path())).value();
  SeriesSamples got = Query(head.get());
  ExpectSame(From(got, mint), From(all, mint));
  for (const auto& [ls, samples] : got) {
    const auto& want = all[ls];
    ASSERT_LE(samples.size(), want.size());
    EXPECT_EQ(samples.front().t, want[want.size() - samples.size()].t) << ls;
  }
}

// Runs `cmd` and returns its standard output.
std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(HeadTruncateTest, PromtoolReadsTheCheckpointedWal) {
  constexpr const char* kPromtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  {
    auto head = std::move(Open(dir.path())).value();
    Fill(head.get());
    ASSERT_TRUE(head->Truncate(4 * kHour).ok());
    ASSERT_TRUE(head->Close().ok());
  }
  // Prometheus replays checkpoint + segments the same way (no blocks, so no lower bound);
  // its dump must list exactly what Kiln's replay of the same directory holds.
  std::multiset<std::string> want;
  {
    auto head = std::move(Open(dir.path())).value();
    for (const auto& [ls, samples] : Query(head.get())) {
      for (const auto& s : samples) {
        want.insert(ls + " " + FormatFloatG(s.v) + " " + std::to_string(s.t));
      }
    }
  }
  ASSERT_GT(want.size(), 0u);
  // Only the WAL: with chunks_head/ Prometheus would prefer its chunks over the older
  // samples the uncheckpointed segments still hold, and the two views would differ.
  TempDir copy;
  std::filesystem::copy(dir.path() + "/wal", copy.path() + "/wal",
                        std::filesystem::copy_options::recursive);
  std::istringstream lines(
      RunCommand(std::string(kPromtool) + " tsdb dump " + copy.path() + " 2>/dev/null"));
  std::multiset<std::string> got;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) got.insert(line);
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

TEST(HeadTruncateTest, PendingCommitKeepsAnEmptySeries) {
  TempDir dir;
  auto head = std::move(Open(dir.path())).value();
  Fill(head.get());
  Labels fresh{{"__name__", "fresh"}};
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, fresh, 6 * kHour, 42).ok());
  // The new series is still empty, but a commit is pending on it.
  ASSERT_TRUE(head->Truncate(5 * kHour).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(head.get(), 0, std::numeric_limits<int64_t>::max(),
                   Matcher::Make(MatchType::kEqual, "__name__", "fresh").value());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->second.size(), 1u);

  // An empty series without pending commits is collected; a later append recreates it.
  Labels idle{{"__name__", "idle"}};
  auto app2 = head->NewAppender();
  ASSERT_TRUE(app2->Append(0, idle, 6 * kHour, 1).ok());  // creates the series
  ASSERT_TRUE(app2->Rollback().ok());
  const uint64_t n = head->NumSeries();
  ASSERT_TRUE(head->Truncate(5 * kHour + 1).ok());
  EXPECT_LT(head->NumSeries(), n);
  auto app3 = head->NewAppender();
  ASSERT_TRUE(app3->Append(0, idle, 7 * kHour, 1).ok());
  ASSERT_TRUE(app3->Commit().ok());
  EXPECT_EQ(Query(head.get(), 0, std::numeric_limits<int64_t>::max(),
                  Matcher::Make(MatchType::kEqual, "__name__", "idle").value())
                .size(),
            1u);
}

TEST(HeadTruncateTest, WaitsForQueriersOpenedBeforeAndFreesSeriesAfterThem) {
  TempDir dir;
  auto head = std::move(Open(dir.path())).value();
  SeriesSamples all = Fill(head.get());
  auto q = std::move(head->NewQuerier(0, 6 * kHour)).value();
  std::atomic<bool> done{false};
  std::thread truncator([&] {
    EXPECT_TRUE(head->Truncate(4 * kHour).ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done.load()) << "truncation must wait for the open querier";
  // The querier opened before still sees everything.
  ExpectSame(ReadAll(q->Select(true, nullptr, {kAll}).get()), all);
  q.reset();
  truncator.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(head->NumSeries(), 1u * kSeries);
  // Nobody holds the collected series any more, so they were freed.
  EXPECT_EQ(head->PendingSeriesFrees(), 0u);
}

TEST(HeadTruncateTest, ConcurrentAppendsQueriesAndTruncations) {
  TempDir dir;
  auto head = std::move(Open(dir.path())).value();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> now{0};
  std::atomic<int> errors{0};
  // Writers churn series: each step writes to series named after the hour, so truncations
  // keep collecting whole generations of series while appends create new ones.
  std::thread writer([&] {
    for (int64_t t = 0; t < 12 * kHour && !stop; t += kStep) {
      auto app = head->NewAppender();
      for (int s = 0; s < 20; ++s) {
        Labels ls{
            {"__name__", "churn"}, {"gen", std::to_string(t / kHour)}, {"s", std::to_string(s)}};
        auto r = app->Append(0, ls, t, 1);
        if (!r.ok() && !r.status().Is(StatusCode::kOutOfBounds)) ++errors;
      }
      if (!app->Commit().ok()) ++errors;
      now = t;
    }
    stop = true;
  });
  std::thread reader([&] {
    while (!stop) {
      auto q = head->NewQuerier(0, std::numeric_limits<int64_t>::max());
      auto set = (*q)->Select(false, nullptr, {kAll});
      while (set->Next()) {
        auto it = set->At().Iterator();
        while (it->Next() != chunkenc::ValueType::kNone) {
        }
        if (!it->err().ok()) ++errors;
      }
      if (!set->err().ok()) ++errors;
    }
  });
  while (!stop) {
    const int64_t t = now.load();
    if (t > 2 * kHour) {
      if (!head->Truncate(t - 2 * kHour).ok()) ++errors;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  writer.join();
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_TRUE(head->Truncate(11 * kHour).ok());
  // Only the last generation (hour 11) is left.
  EXPECT_EQ(head->NumSeries(), 20u);
  EXPECT_EQ(head->postings().LabelValues("gen"), std::vector<std::string>{"11"});
}

TEST(HeadDeleteTest, TombstonesHideSamplesAndSurviveRestartAndCheckpoint) {
  TempDir dir;
  SeriesSamples all;
  const Matcher s1 = Matcher::Make(MatchType::kEqual, "s", "1").value();
  const Matcher old = Matcher::Make(MatchType::kEqual, "__name__", "old").value();
  auto expected = [&](int64_t mint) {
    SeriesSamples want = From(all, mint);
    for (auto& [ls, samples] : want) {
      if (ls.find("s=\"1\"") == std::string::npos) continue;
      std::erase_if(samples, [](const model::Sample& s) {
        return s.t >= 5 * kHour && s.t <= 5 * kHour + 10 * kStep;
      });
    }
    for (auto it = want.begin(); it != want.end();) {
      it = it->first.starts_with("{__name__=\"old\"") ? want.erase(it) : std::next(it);
    }
    return want;
  };
  {
    auto head = std::move(Open(dir.path())).value();
    all = Fill(head.get());
    ASSERT_TRUE(head->Delete(5 * kHour, 5 * kHour + 10 * kStep, {s1}).ok());
    // Every sample of the "old" series: they vanish from selects altogether.
    ASSERT_TRUE(head->Delete(std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::max(), {old})
                    .ok());
    ExpectSame(Query(head.get()), expected(0));
    ASSERT_TRUE(head->Close().ok());
  }
  {
    auto head = std::move(Open(dir.path())).value();
    ExpectSame(Query(head.get()), expected(0));
    // The tombstones are above the truncation point, so the checkpoint keeps them even
    // though the segment that logged them is checkpointed.
    ASSERT_TRUE(head->Truncate(4 * kHour).ok());
    ExpectSame(Query(head.get()), expected(4 * kHour));
    ASSERT_TRUE(head->Close().ok());
  }
  auto head = std::move(Open(dir.path(), 4 * kHour)).value();
  ExpectSame(Query(head.get()), expected(4 * kHour));
}

TEST(HeadDeleteTest, DeleteWithoutMatchingSeriesWritesNothing) {
  TempDir dir;
  auto head = std::move(Open(dir.path())).value();
  Fill(head.get());
  ASSERT_TRUE(
      head->Delete(0, kHour, {Matcher::Make(MatchType::kEqual, "__name__", "none").value()}).ok());
  // Out of every series' time range: nothing to tombstone either.
  ASSERT_TRUE(head->Delete(100 * kHour, 101 * kHour, {kAll}).ok());
  EXPECT_EQ(Query(head.get()).size(), 2u * kSeries);
}

}  // namespace
}  // namespace kiln::tsdb
