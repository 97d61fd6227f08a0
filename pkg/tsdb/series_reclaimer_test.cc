#include "pkg/tsdb/series_reclaimer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace kiln::tsdb {
namespace {

using Kind = SeriesReclaimer::Kind;

std::vector<std::unique_ptr<MemSeries>> Series(int n) {
  std::vector<std::unique_ptr<MemSeries>> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_unique<MemSeries>(model::Labels{{"i", std::to_string(i)}}, i + 1));
  }
  return out;
}

TEST(SeriesReclaimerTest, FreesOnlyOnceEveryEarlierUserLeft) {
  SeriesReclaimer r;
  const uint64_t reader = r.Enter(Kind::kReader);
  const uint64_t writer = r.Enter(Kind::kWriter);
  r.Retire(Series(2));
  EXPECT_EQ(r.PendingFrees(), 2u);
  // Users arriving after the retirement cannot hold the series and do not delay the free.
  const uint64_t late = r.Enter(Kind::kReader);
  r.Exit(Kind::kReader, reader);
  EXPECT_EQ(r.PendingFrees(), 2u) << "the writer may still hold them";
  r.Exit(Kind::kWriter, writer);
  EXPECT_EQ(r.PendingFrees(), 0u);
  r.Retire(Series(1));
  EXPECT_EQ(r.PendingFrees(), 1u) << "the late reader entered before this retirement";
  r.Exit(Kind::kReader, late);
  EXPECT_EQ(r.PendingFrees(), 0u);
  // Nobody registered: freed at once.
  r.Retire(Series(3));
  EXPECT_EQ(r.PendingFrees(), 0u);
}

TEST(SeriesReclaimerTest, WaitsForCurrentReadersOnly) {
  SeriesReclaimer r;
  const uint64_t old_reader = r.Enter(Kind::kReader);
  const uint64_t writer = r.Enter(Kind::kWriter);  // writers are never waited for
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    r.WaitForCurrentReaders();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(done.load());
  const uint64_t new_reader = r.Enter(Kind::kReader);  // arrived after the wait began
  r.Exit(Kind::kReader, old_reader);
  waiter.join();
  EXPECT_TRUE(done.load());
  r.Exit(Kind::kReader, new_reader);
  r.Exit(Kind::kWriter, writer);
}

}  // namespace
}  // namespace kiln::tsdb
