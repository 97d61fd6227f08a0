// Isolation and concurrency of the head: readers never see part of a commit, concurrent
// appenders neither lose nor corrupt samples.
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

std::unique_ptr<Head> OpenMemHead() {
  HeadOptions o;
  o.enable_wal = false;
  o.stripe_size = 16;
  return std::move(Head::Open(o)).value();
}

const Matcher kAll = Matcher::Make(MatchType::kRegexMatch, "__name__", ".+").value();

// Counts the samples of every selected series.
std::vector<size_t> CountSamples(storage::Querier* q) {
  std::vector<size_t> counts;
  auto set = q->Select(true, nullptr, {kAll});
  while (set->Next()) {
    auto it = set->At().Iterator();
    size_t n = 0;
    while (it->Next() != chunkenc::ValueType::kNone) ++n;
    counts.push_back(n);
  }
  return counts;
}

TEST(HeadIsolationTest, QueriesNeverSeeHalfACommit) {
  auto head = OpenMemHead();
  Labels a{{"__name__", "a"}}, b{{"__name__", "b"}}, c{{"__name__", "c"}};
  // The reader makes a fixed number of checks while the writer commits. The writer stays at
  // most kCommitsPerCheck commits ahead of the checks made so far, so the two overlap on
  // any machine, however fast or loaded, and the data (and each check's cost) stays bounded.
  constexpr int kChecks = 50;
  constexpr int64_t kCommitsPerCheck = 200;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> commits{0};
  std::atomic<int64_t> checks{0};
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    // Set however the writer ends, a failed ASSERT included, so the reader cannot wait on it
    // forever.
    struct Done {
      std::atomic<bool>& done;
      ~Done() { done = true; }
    } mark_done{writer_done};
    // Each commit: two samples to `a` and one each to `b` and `c`, so a consistent reader
    // sees a == 2b == 2c. All series move at the same pace: a series lagging half a chunk
    // range behind the head's max time would be out of bounds.
    for (int64_t t = 1; !stop.load(); ++t) {
      while (commits.load() >= (checks.load() + 1) * kCommitsPerCheck && !stop.load()) {
        std::this_thread::yield();
      }
      auto app = head->NewAppender();
      for (auto [labels, ts] : {std::pair{&a, 2 * t}, {&b, 2 * t}, {&a, 2 * t + 1}, {&c, 2 * t}}) {
        auto r = app->Append(0, *labels, ts, 1);
        ASSERT_TRUE(r.ok()) << labels->ToString() << " t=" << ts << ": " << r.status().ToString();
      }
      ASSERT_TRUE(app->Commit().ok());
      commits.fetch_add(1);
    }
  });
  // Stops and joins the writer however the reader's loop ends, a failed ASSERT included.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, writer};
  while (checks.load() < kChecks) {
    auto q = std::move(head->NewQuerier(0, 1LL << 40)).value();
    std::vector<size_t> n = CountSamples(q.get());
    if (n.empty()) {
      ASSERT_FALSE(writer_done.load()) << "the writer ended before its first commit";
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(n.size(), 3u);
    ASSERT_EQ(n[0], 2 * n[1]) << "a=" << n[0] << " b=" << n[1];
    ASSERT_EQ(n[1], n[2]);
    // A second Select on the same querier sees the same commits.
    std::this_thread::yield();
    ASSERT_EQ(CountSamples(q.get()), n);
    checks.fetch_add(1);
  }
  stop = true;
  writer.join();
  // Every commit is visible once all are done, and tags were cleaned up along the way.
  auto q = std::move(head->NewQuerier(0, 1LL << 40)).value();
  EXPECT_EQ(CountSamples(q.get())[1], static_cast<size_t>(commits.load()));
  EXPECT_EQ(head->isolation().OpenAppends(), 0u);
}

TEST(HeadConcurrencyTest, ConcurrentAppendersOnDisjointAndSharedSeries) {
  auto head = OpenMemHead();
  constexpr int kThreads = 4, kSeries = 50, kSamples = 400;
  std::vector<std::thread> threads;
  std::atomic<int> rejected{0};
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t t = 0; t < kSamples; t += 10) {
        auto app = head->NewAppender();
        for (int s = 0; s < kSeries; ++s) {
          Labels own{{"__name__", "own"}, {"w", std::to_string(w)}, {"s", std::to_string(s)}};
          for (int64_t i = t; i < t + 10; ++i) ASSERT_TRUE(app->Append(0, own, i, i).ok());
        }
        // Everyone also writes one shared series; losers of a race get out-of-order or
        // duplicate errors, never corruption.
        Labels shared{{"__name__", "shared"}};
        auto r = app->Append(0, shared, t * kThreads + w, 1);
        if (!r.ok()) rejected.fetch_add(1);
        ASSERT_TRUE(app->Commit().ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(head->NumSeries(), static_cast<uint64_t>(kThreads * kSeries + 1));
  auto q = std::move(head->NewQuerier(0, 1LL << 40)).value();
  auto set = q->Select(true, nullptr, {kAll});
  int series = 0;
  while (set->Next()) {
    ++series;
    auto it = set->At().Iterator();
    int64_t prev = -1;
    size_t n = 0;
    while (it->Next() != chunkenc::ValueType::kNone) {
      ASSERT_GT(it->AtT(), prev) << set->At().labels().ToString();
      prev = it->AtT();
      ++n;
    }
    if (set->At().labels().MetricName() == "own") {
      EXPECT_EQ(n, static_cast<size_t>(kSamples)) << set->At().labels().ToString();
    } else {
      EXPECT_GE(n, 1u);
    }
  }
  EXPECT_EQ(series, kThreads * kSeries + 1);
}

}  // namespace
}  // namespace kiln::tsdb
