// HeadAppender::AppendCached: a slot carries the series from one transaction to the next
// without a lookup, and head GC (series unlinked and freed between or during transactions)
// sends it back to the registry instead of to freed memory.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace kiln::tsdb
