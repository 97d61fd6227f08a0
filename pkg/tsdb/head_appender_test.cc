// HeadAppender::AppendCached: a slot carries the series from one transaction to the next
// without a lookup, and head GC (series unlinked and freed between or during transactions)
// sends it back to the registry instead of to freed memory.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"

namespace kiln::tsdb {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;
using testing::ReadAll;
using testing::SeriesSamples;

constexpr int64_t kHour = 3600 * 1000;

std::unique_ptr<Head> OpenHead() {
  HeadOptions o;
  o.enable_wal = false;
  o.stripe_size = 4;
  o.chunk_range = kHour;
  o.logger = Logger(LogLevel::kError);
  return std::move(Head::Open(o)).value();
}

using Points = std::vector<std::pair<int64_t, double>>;

Points Samples(Head* head, const std::string& name) {
  auto q = std::move(head->NewQuerier(0, std::numeric_limits<int64_t>::max())).value();
  SeriesSamples all = ReadAll(
      q->Select(true, nullptr, {Matcher::Make(MatchType::kEqual, "__name__", name).value()}).get());
  Points out;
  if (!all.empty()) {
    for (const model::Sample& s : all.begin()->second) out.emplace_back(s.t, s.v);
  }
  return out;
}

Status AppendOne(Head* head, storage::SeriesSlot* slot, const Labels& l, int64_t t, double v) {
  auto app = head->NewAppender();
  KILN_RETURN_IF_ERROR(app->AppendCached(slot, l, t, v));
  return app->Commit();
}

TEST(HeadAppenderTest, SlotKeepsTheSeriesAcrossTransactions) {
  auto head = OpenHead();
  const Labels l{{"__name__", "m"}, {"a", "1"}};
  storage::SeriesSlot slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, 1000, 1).ok());
  ASSERT_NE(slot.ref, 0u);
  ASSERT_NE(slot.series, nullptr);
  const storage::SeriesSlot first = slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, 2000, 2).ok());
  EXPECT_EQ(slot.ref, first.ref);
  EXPECT_EQ(slot.series, first.series);
  // The plain Append by ref and the slot agree on the series.
  auto app = head->NewAppender();
  auto r = app->Append(0, l, 3000, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, slot.ref);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Samples(head.get(), "m"), (Points{{1000, 1}, {2000, 2}, {3000, 3}}));
  EXPECT_EQ(head->NumSeries(), 1u);
}

TEST(HeadAppenderTest, SlotErrorsAreAppendErrorsAndLeaveTheSlot) {
  auto head = OpenHead();
  const Labels l{{"__name__", "m"}};
  storage::SeriesSlot slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, 2000, 1).ok());
  const storage::SeriesSlot before = slot;
  Status s = AppendOne(head.get(), &slot, l, 1000, 2);
  EXPECT_TRUE(s.Is(StatusCode::kOutOfOrder)) << s.ToString();
  s = AppendOne(head.get(), &slot, l, 2000, 5);
  EXPECT_TRUE(s.Is(StatusCode::kDuplicateSample)) << s.ToString();
  EXPECT_EQ(slot.ref, before.ref);
  EXPECT_EQ(slot.series, before.series);
  // A slot for invalid labels fails as Append does and stays empty.
  storage::SeriesSlot bad;
  auto app = head->NewAppender();
  s = app->AppendCached(&bad, Labels{{"a", ""}}, 3000, 1);  // no label left
  EXPECT_TRUE(s.Is(StatusCode::kBadData)) << s.ToString();
  EXPECT_EQ(bad.ref, 0u);
  EXPECT_EQ(bad.series, nullptr);
  ASSERT_TRUE(app->Rollback().ok());
}

// The series of a slot is collected and freed between two transactions: the next append
// must find or create the series again (a new ref), not touch the freed one.
TEST(HeadAppenderTest, SeriesCollectedBetweenTransactionsIsRecreated) {
  auto head = OpenHead();
  const Labels l{{"__name__", "gone"}};
  storage::SeriesSlot slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, 1000, 1).ok());
  const storage::SeriesRef old_ref = slot.ref;
  ASSERT_TRUE(head->Truncate(kHour).ok());  // drops its only chunk; GC unlinks the series
  EXPECT_EQ(head->NumSeries(), 0u);
  EXPECT_EQ(head->PendingSeriesFrees(), 0u) << "nobody holds it: freed";
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, kHour + 1000, 2).ok());
  EXPECT_NE(slot.ref, old_ref);
  EXPECT_EQ(head->NumSeries(), 1u);
  EXPECT_EQ(Samples(head.get(), "gone"), (Points{{kHour + 1000, 2}}));
  // And the refreshed slot works as before.
  const storage::SeriesSlot now = slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, kHour + 2000, 3).ok());
  EXPECT_EQ(slot.series, now.series);
  EXPECT_EQ(Samples(head.get(), "gone").size(), 2u);
}

// GC unlinks the series while an appender that will use the slot is open: the series stays
// allocated for that appender, which sees it removed and re-resolves.
TEST(HeadAppenderTest, SeriesCollectedDuringTheTransactionIsRecreated) {
  auto head = OpenHead();
  const Labels l{{"__name__", "gone"}};
  storage::SeriesSlot slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, 1000, 1).ok());
  const storage::SeriesRef old_ref = slot.ref;
  auto app = head->NewAppender();
  ASSERT_TRUE(head->Truncate(kHour).ok());
  EXPECT_EQ(head->NumSeries(), 0u);
  EXPECT_EQ(head->PendingSeriesFrees(), 1u) << "the open appender may still hold it";
  ASSERT_TRUE(app->AppendCached(&slot, l, kHour + 1000, 2).ok());
  EXPECT_NE(slot.ref, old_ref);
  ASSERT_TRUE(app->Commit().ok());
  app.reset();
  EXPECT_EQ(head->NumSeries(), 1u);
  EXPECT_EQ(Samples(head.get(), "gone"), (Points{{kHour + 1000, 2}}));
  // The next GC-free transaction uses the new series through the slot.
  const storage::SeriesSlot now = slot;
  ASSERT_TRUE(AppendOne(head.get(), &slot, l, kHour + 2000, 3).ok());
  EXPECT_EQ(slot.ref, now.ref);
  EXPECT_EQ(head->PendingSeriesFrees(), 0u);
}

// A GC that collects other series also retires the slot's pointer (the generation moved);
// the append then goes through the ref and lands on the same, still live, series.
TEST(HeadAppenderTest, OtherSeriesCollectedKeepsTheSeries) {
  auto head = OpenHead();
  const Labels keep{{"__name__", "keep"}};
  const Labels drop{{"__name__", "drop"}};
  storage::SeriesSlot keep_slot, drop_slot;
  ASSERT_TRUE(AppendOne(head.get(), &drop_slot, drop, 1000, 1).ok());
  ASSERT_TRUE(AppendOne(head.get(), &keep_slot, keep, kHour + 1000, 1).ok());
  const storage::SeriesSlot before = keep_slot;
  ASSERT_TRUE(head->Truncate(kHour).ok());
  EXPECT_EQ(head->NumSeries(), 1u);
  ASSERT_TRUE(AppendOne(head.get(), &keep_slot, keep, kHour + 2000, 2).ok());
  EXPECT_EQ(keep_slot.ref, before.ref);
  EXPECT_EQ(keep_slot.series, before.series);
  EXPECT_NE(keep_slot.generation, before.generation);
  EXPECT_EQ(Samples(head.get(), "keep"), (Points{{kHour + 1000, 1}, {kHour + 2000, 2}}));
}

// Slots used while another thread truncates the head, which collects series between and
// during transactions (each series is appended to only every 7th round, so it is often
// empty when a truncation comes). Whatever the interleaving, nothing may touch a freed
// series (AddressSanitizer builds check that) and a final round lands on live series.
TEST(HeadAppenderTest, SlotsStayRightUnderConcurrentGc) {
  auto head = OpenHead();
  constexpr int kSeries = 50;
  constexpr int kRounds = 3000;
  std::vector<Labels> labels;
  for (int i = 0; i < kSeries; ++i) labels.push_back({{"__name__", "s"}, {"i", std::to_string(i)}});
  std::vector<storage::SeriesSlot> slots(kSeries);
  std::atomic<int64_t> now{0};
  std::atomic<int64_t> truncated{0};  // mint of the truncator's last completed Truncate
  std::atomic<bool> stop{false};
  std::thread truncator([&] {
    while (!stop.load()) {
      const int64_t mint = now.load() - 1000;
      if (mint > 0) EXPECT_TRUE(head->Truncate(mint).ok());
      truncated.store(mint);
      std::this_thread::yield();
    }
  });
  // Most rounds race with the truncator; every 10th waits for a truncation before its
  // transaction, and every 10th + 5 waits with its appender open, so that collection
  // between and during transactions happens however the threads are scheduled.
  auto wait_truncation = [&](int64_t t) {
    while (truncated.load() < t - 1000) std::this_thread::yield();
  };
  int recreated = 0;
  for (int r = 1; r <= kRounds; ++r) {
    const int64_t t = int64_t{r} * 1000;
    now.store(t);
    if (r % 10 == 0) wait_truncation(t);
    auto app = head->NewAppender();
    if (r % 10 == 5) wait_truncation(t);
    for (int i = 0; i < kSeries; ++i) {
      if ((r + i) % 7 != 0) continue;
      const storage::SeriesRef before = slots[i].ref;
      Status s = app->AppendCached(&slots[i], labels[i], t, r);
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (before != 0 && slots[i].ref != before) ++recreated;
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  stop.store(true);
  truncator.join();
  EXPECT_GT(recreated, 0) << "the waits above make collected series come back";
  const int64_t last = int64_t{kRounds + 1} * 1000;
  auto app = head->NewAppender();
  for (int i = 0; i < kSeries; ++i) {
    ASSERT_TRUE(app->AppendCached(&slots[i], labels[i], last, -1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  app.reset();
  auto q = std::move(head->NewQuerier(last, last)).value();
  SeriesSamples got = ReadAll(
      q->Select(true, nullptr, {Matcher::Make(MatchType::kEqual, "__name__", "s").value()}).get());
  ASSERT_EQ(got.size(), static_cast<size_t>(kSeries));
  for (const auto& [series, samples] : got) {
    ASSERT_EQ(samples.size(), 1u) << series;
    EXPECT_EQ(samples[0].v, -1) << series;
  }
  // Every slot names the series that holds the final sample.
  auto check = head->NewAppender();
  for (int i = 0; i < kSeries; ++i) {
    auto r = check->Append(0, labels[i], last + 1000, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, slots[i].ref);
  }
  ASSERT_TRUE(check->Rollback().ok());
}

}  // namespace
}  // namespace kiln::tsdb
