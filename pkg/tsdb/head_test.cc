#include "pkg/tsdb/head.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "pkg/tsdb/head_test_util.h"

namespace kiln::tsdb {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;
using testing::ReadAll;
using testing::SeriesSamples;
using testing::TempDir;

constexpr int64_t kMinute = 60 * 1000;

std::unique_ptr<Head> OpenHead(const std::string& dir, bool wal = true) {
  HeadOptions o;
  o.dir = dir;
  o.enable_wal = wal;
  o.stripe_size = 64;
  o.logger = Logger(LogLevel::kError);
  auto h = Head::Open(o);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return std::move(h).value();
}

SeriesSamples Query(Head* head, int64_t mint, int64_t maxt, std::vector<Matcher> ms) {
  auto q = head->NewQuerier(mint, maxt);
  EXPECT_TRUE(q.ok());
  auto set = (*q)->Select(true, nullptr, ms);
  return ReadAll(set.get());
}

Matcher M(MatchType t, const char* name, const char* value) {
  return Matcher::Make(t, name, value).value();
}

const Matcher kAll = Matcher::Make(MatchType::kRegexMatch, "__name__", ".+").value();

TEST(HeadTest, AppendCommitQueryRoundTrip) {
  TempDir dir;
  auto head = OpenHead(dir.path());
  auto app = head->NewAppender();
  SeriesSamples want;
  for (int s = 2; s >= 0; --s) {  // created out of label order: output must still be sorted
    Labels ls{{"__name__", "m"}, {"i", std::to_string(s)}};
    storage::SeriesRef ref = 0;
    for (int64_t i = 0; i < 300; ++i) {
      auto r = app->Append(ref, ls, i * 15000, static_cast<double>(i * s));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ref = *r;
      want[ls.ToString()].push_back({i * 15000, static_cast<double>(i * s)});
    }
  }
  // Nothing is visible before Commit.
  EXPECT_TRUE(Query(head.get(), 0, 1LL << 40, {kAll}).empty());
  ASSERT_TRUE(app->Commit().ok());

  SeriesSamples got = Query(head.get(), 0, 1LL << 40, {kAll});
  ASSERT_EQ(got.size(), 3u);
  for (const auto& [ls, samples] : want) {
    ASSERT_EQ(got[ls].size(), samples.size()) << ls;
    for (size_t i = 0; i < samples.size(); ++i) {
      EXPECT_EQ(got[ls][i].t, samples[i].t);
      EXPECT_EQ(got[ls][i].v, samples[i].v);
    }
  }
  EXPECT_EQ(head->MinTime(), 0);
  EXPECT_EQ(head->MaxTime(), 299 * 15000);

  EXPECT_EQ(head->NumSeries(), 3u);

  // Trimmed to the querier range, both ends inclusive.
  SeriesSamples part = Query(head.get(), 30000, 60000, {M(MatchType::kEqual, "i", "1")});
  ASSERT_EQ(part.size(), 1u);
  const auto& p = part.begin()->second;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.front().t, 30000);
  EXPECT_EQ(p.back().t, 60000);

  // Sorted output order.
  auto q = head->NewQuerier(0, 1LL << 40);
  auto set = (*q)->Select(true, nullptr, {kAll});
  std::vector<std::string> order;
  while (set->Next()) order.push_back(std::string(set->At().labels().Get("i")));
  EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2"}));

  // Full chunks went to chunks_head/ (read back through the mapper above).
  set.reset();
  q->reset();
  ASSERT_TRUE(head->Close().ok());
  ASSERT_TRUE(std::filesystem::exists(dir.path() + "/chunks_head/000001"));
  EXPECT_GT(std::filesystem::file_size(dir.path() + "/chunks_head/000001"), 200u);
}

TEST(HeadTest, IteratorSeek) {
  auto head = OpenHead("", false);
  auto app = head->NewAppender();
  Labels ls{{"__name__", "m"}};
  for (int64_t t = 0; t < 1000; ++t) ASSERT_TRUE(app->Append(0, ls, t * 1000, t).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto q = head->NewQuerier(0, 1LL << 40);
  auto set = (*q)->Select(false, nullptr, {kAll});
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  ASSERT_EQ(it->Seek(500500), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->AtT(), 501000);
  ASSERT_EQ(it->Seek(400000), chunkenc::ValueType::kFloat);  // never moves back
  EXPECT_EQ(it->AtT(), 501000);
  ASSERT_EQ(it->Next(), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->AtT(), 502000);
  ASSERT_EQ(it->Seek(999000), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->At().second, 999.0);
  EXPECT_EQ(it->Seek(999001), chunkenc::ValueType::kNone);
}

TEST(HeadTest, AppendErrorsTable) {
  auto head = OpenHead("", false);
  Labels ls{{"__name__", "m"}};
  Labels stale_ls{{"__name__", "stale"}};
  {
    auto app = head->NewAppender();
    ASSERT_TRUE(app->Append(0, ls, 2 * 60 * kMinute, 1).ok());
    ASSERT_TRUE(app->Append(0, stale_ls, 2 * 60 * kMinute, model::StaleNaN()).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  double normal_nan;
  std::memcpy(&normal_nan, &model::kNormalNaNBits, sizeof normal_nan);
  struct Case {
    const char* name;
    Labels labels;
    int64_t t;
    double v;
    StatusCode code;
    std::string message;
  };
  const int64_t t0 = 2 * 60 * kMinute;
  const std::vector<Case> cases = {
      {"same timestamp and value", ls, t0, 1, StatusCode::kOk, ""},
      {"same timestamp, new value", ls, t0, 2, StatusCode::kDuplicateSample,
       "duplicate sample for timestamp 7200000; overrides not allowed: existing 1, new value 2"},
      {"older", ls, t0 - 1, 1, StatusCode::kOutOfOrder, "out of order sample"},
      {"beyond half the chunk range", ls, t0 - 60 * kMinute - 1, 1, StatusCode::kOutOfBounds,
       "out of bounds"},
      {"new series beyond the window", Labels{{"__name__", "n"}}, t0 - 61 * kMinute, 1,
       StatusCode::kOutOfBounds, "out of bounds"},
      {"new series inside the window", Labels{{"__name__", "n"}}, t0 - 59 * kMinute, 1,
       StatusCode::kOk, ""},
      {"stale NaN again", stale_ls, t0, model::StaleNaN(), StatusCode::kOk, ""},
      {"ordinary NaN over stale NaN", stale_ls, t0, normal_nan, StatusCode::kDuplicateSample,
       "duplicate sample for timestamp 7200000; overrides not allowed: existing NaN, new "
       "value NaN"},
      {"newer", ls, t0 + 1, 1, StatusCode::kOk, ""},
      {"empty labels", Labels(), t0, 1, StatusCode::kBadData, "empty labelset: invalid sample"},
      {"duplicate names", Labels::FromSorted({{"a", "1"}, {"a", "2"}}), t0, 1, StatusCode::kBadData,
       "label name \"a\" is not unique: invalid sample"},
      {"unsorted names", Labels::FromSorted({{"b", "1"}, {"a", "2"}}), t0, 1, StatusCode::kBadData,
       "labels are not sorted: invalid sample"},
      {"empty name", Labels::FromSorted({{"", "1"}, {"a", "2"}}), t0, 1, StatusCode::kBadData,
       "label name is empty: invalid sample"},
      {"only empty values", Labels::FromSorted({{"a", ""}}), t0, 1, StatusCode::kBadData,
       "empty labelset: invalid sample"},
  };
  for (const auto& c : cases) {
    auto app = head->NewAppender();
    auto r = app->Append(0, c.labels, c.t, c.v);
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(r.status().message(), c.message) << c.name;
    EXPECT_TRUE(app->Rollback().ok());
  }
}

TEST(HeadTest, ExactDuplicateIsDroppedAndOutOfOrderWithinBatchIsDropped) {
  auto head = OpenHead("", false);
  Labels ls{{"__name__", "m"}};
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, ls, 1000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, ls, 1000, 1).ok());  // exact duplicate
  ASSERT_TRUE(app->Append(0, ls, 3000, 3).ok());
  ASSERT_TRUE(app->Append(0, ls, 2000, 2).ok());  // valid against committed state only
  ASSERT_TRUE(app->Commit().ok());
  SeriesSamples got = Query(head.get(), 0, 10000, {kAll});
  ASSERT_EQ(got.begin()->second.size(), 2u);
  EXPECT_EQ(got.begin()->second[1].t, 3000);
}

TEST(HeadTest, RollbackDiscardsSamplesButKeepsSeries) {
  auto head = OpenHead("", false);
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "m"}}, 1000, 1).ok());
  ASSERT_TRUE(app->Rollback().ok());
  EXPECT_FALSE(app->Commit().ok());  // closed
  EXPECT_TRUE(Query(head.get(), 0, 10000, {kAll}).empty());
  EXPECT_EQ(head->NumSeries(), 1u);
  // The head's time bounds were set by the first append, but no sample is there.
  app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "m"}}, 500, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Query(head.get(), 0, 10000, {kAll}).begin()->second.size(), 1u);
}

TEST(HeadTest, EmptyLabelValuesAreDropped) {
  auto head = OpenHead("", false);
  auto app = head->NewAppender();
  auto plain = app->Append(0, Labels{{"__name__", "m"}}, 1000, 1);
  auto with_empty = app->Append(0, Labels::FromSorted({{"__name__", "m"}, {"x", ""}}), 2000, 2);
  ASSERT_TRUE(plain.ok() && with_empty.ok()) << with_empty.status().ToString();
  EXPECT_EQ(*plain, *with_empty);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->NumSeries(), 1u);
  EXPECT_EQ(Query(head.get(), 0, 10000, {kAll}).begin()->second.size(), 2u);
}

TEST(HeadTest, ChunksAreCutAsUpstream) {
  auto head = OpenHead("", false);
  auto app = head->NewAppender();
  Labels ls{{"__name__", "m"}};
  // 1000 samples at 15s from 0: the first 2h window holds 480 samples in 4 chunks of 120;
  // the next 520 samples make 4 chunks of 120 and one of 40.
  for (int64_t i = 0; i < 1000; ++i) ASSERT_TRUE(app->Append(0, ls, i * 15000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->Stats(10).chunk_count, 9u);
  EXPECT_EQ(Query(head.get(), 0, 1LL << 40, {kAll}).begin()->second.size(), 1000u);
}

TEST(HeadTest, TruncateChunksDropsOldFullChunks) {
  TempDir dir;
  auto head = OpenHead(dir.path());
  auto app = head->NewAppender();
  Labels ls{{"__name__", "m"}};
  for (int64_t i = 0; i < 1000; ++i) ASSERT_TRUE(app->Append(0, ls, i * 15000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto before = std::move(head->NewQuerier(0, 1LL << 40)).value();
  auto before_set = before->Select(false, nullptr, {kAll});

  // The first 2h window's 4 chunks (480 samples) end before 2h.
  ASSERT_TRUE(head->TruncateChunks(2 * 60 * kMinute).ok());
  EXPECT_EQ(head->Stats(10).chunk_count, 5u);
  EXPECT_EQ(head->MinTime(), 2 * 60 * kMinute);
  auto after = Query(head.get(), 0, 1LL << 40, {kAll});
  ASSERT_EQ(after.begin()->second.size(), 520u);
  EXPECT_EQ(after.begin()->second.front().t, 2 * 60 * kMinute);
  // A querier that selected before the truncation still reads everything it selected.
  EXPECT_EQ(ReadAll(before_set.get()).begin()->second.size(), 1000u);
}

TEST(HeadTest, MetadataLabelNamesValuesAndLimits) {
  auto head = OpenHead("", false);
  auto app = head->NewAppender();
  Labels a{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}};
  Labels b{{"__name__", "http_requests_total"}, {"job", "web"}};
  Labels c{{"__name__", "up"}, {"job", "web"}, {"zone", "eu"}};
  for (const auto& ls : {a, b, c}) ASSERT_TRUE(app->Append(0, ls, 1000, 1).ok());
  model::Metadata meta{model::MetricType::kCounter, "Requests.", ""};
  ASSERT_TRUE(app->UpdateMetadata(0, a, meta).ok());
  EXPECT_EQ(app->UpdateMetadata(0, Labels{{"__name__", "nope"}}, meta).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(app->Commit().ok());

  model::Metadata got;
  ASSERT_TRUE(head->GetMetadata(a, &got));
  EXPECT_EQ(got, meta);
  EXPECT_FALSE(head->GetMetadata(b, &got));

  auto q = std::move(head->NewQuerier(0, 2000)).value();
  EXPECT_EQ(*q->LabelNames({}, {}), (std::vector<std::string>{"__name__", "code", "job", "zone"}));
  EXPECT_EQ(*q->LabelNames({}, {M(MatchType::kEqual, "job", "web")}),
            (std::vector<std::string>{"__name__", "job", "zone"}));
  EXPECT_EQ(*q->LabelValues("job", {}, {}), (std::vector<std::string>{"api", "web"}));
  EXPECT_EQ(*q->LabelValues("job", {}, {M(MatchType::kEqual, "__name__", "up")}),
            (std::vector<std::string>{"web"}));
  storage::LabelHints one{1};
  EXPECT_EQ(*q->LabelValues("job", one, {}), (std::vector<std::string>{"api"}));
  storage::SelectHints limit;
  limit.limit = 2;
  auto set = q->Select(true, &limit, {M(MatchType::kRegexMatch, "job", ".+")});
  EXPECT_EQ(ReadAll(set.get()).size(), 2u);

  // Metadata-only selects return the series without reading samples.
  storage::SelectHints series_only;
  series_only.func = "series";
  auto labels_only = ReadAll(q->Select(true, &series_only, {kAll}).get());
  ASSERT_EQ(labels_only.size(), 3u);
  for (const auto& [ls, samples] : labels_only) EXPECT_TRUE(samples.empty()) << ls;

  // A querier outside the head's time range sees nothing.
  auto far = std::move(head->NewQuerier(5000, 9000)).value();
  EXPECT_TRUE(far->LabelNames({}, {})->empty());
  EXPECT_TRUE(ReadAll(far->Select(false, nullptr, {kAll}).get()).empty());

  HeadStats st = head->Stats(10);
  EXPECT_EQ(st.num_series, 3u);
  EXPECT_EQ(st.postings.series_count_by_metric_name[0].name, "http_requests_total");
  EXPECT_EQ(st.postings.series_count_by_metric_name[0].count, 2u);
}

TEST(HeadTest, MetricsAreRegistered) {
  prometheus::Registry registry;
  HeadOptions o;
  o.enable_wal = false;
  o.registry = &registry;
  auto head = std::move(Head::Open(o)).value();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "m"}}, 1000, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "m"}}, 2000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  app = head->NewAppender();
  EXPECT_FALSE(app->Append(0, Labels{{"__name__", "m"}}, 1500, 1).ok());
  ASSERT_TRUE(app->Rollback().ok());
  std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("prometheus_tsdb_head_series 1"), std::string::npos) << text;
  EXPECT_NE(text.find("prometheus_tsdb_head_samples_appended_total{type=\"float\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_out_of_order_samples_total{type=\"float\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_head_chunks 1"), std::string::npos);
  EXPECT_NE(text.find("prometheus_tsdb_head_active_appenders 0"), std::string::npos);
}

TEST(HeadTest, RejectsUnsupportedOptions) {
  HeadOptions o;
  o.enable_wal = false;
  o.out_of_order_time_window = 1000;
  EXPECT_EQ(Head::Open(o).status().code(), StatusCode::kUnavailable);
  o.out_of_order_time_window = 0;
  o.stripe_size = 3;
  EXPECT_EQ(Head::Open(o).status().code(), StatusCode::kBadData);
}

}  // namespace
}  // namespace kiln::tsdb
