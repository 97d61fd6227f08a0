// SeriesReclaimer: frees garbage-collected head series only once nobody can still hold a
// pointer to them.
//
// Appenders and queriers look series up by ref and keep the MemSeries* while they work, with
// no lock held in between; head GC may unlink a series from the registry at any moment. Each
// appender or querier therefore registers for its lifetime (Enter / Exit) and gets the
// current epoch; GC hands unlinked series to Retire, which stamps them with the epoch and
// advances it. A retired series is freed once every registered user entered after it was
// retired, i.e. once nobody who could have found it is left. (Upstream relies on Go's
// garbage collector for the same guarantee.)
//
// Readers are tracked apart from writers so that compaction can wait for the queriers that
// started before a new block became visible (WaitForCurrentReaders), as upstream's
// WaitForPendingReadersInTimeRange does, without also waiting for long-lived appenders.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "pkg/tsdb/mem_series.h"

namespace kiln::tsdb {

class SeriesReclaimer {
 public:
  enum class Kind { kReader, kWriter };

  SeriesReclaimer() = default;
  SeriesReclaimer(const SeriesReclaimer&) = delete;
  SeriesReclaimer& operator=(const SeriesReclaimer&) = delete;

  // Registers a user; returns the epoch to pass to Exit.
  uint64_t Enter(Kind kind);
  // REQUIRES: (kind, epoch) came from Enter and was not exited yet.
  void Exit(Kind kind, uint64_t epoch);

  // Takes ownership of series no longer reachable through the registry.
  void Retire(std::vector<std::unique_ptr<MemSeries>> series);
  // Blocks until every reader registered at the time of the call has exited (readers that
  // register meanwhile are not waited for).
  void WaitForCurrentReaders();

  // Retired series not freed yet (for tests).
  size_t PendingFrees() const;

 private:
  void FreeLocked();

  // Registered users per epoch, by ascending epoch, no leading zero counts. A vector, not a
  // multiset: Enter/Exit run once per appender and querier, and must not allocate once warm.
  using Users = std::vector<std::pair<uint64_t, size_t>>;
  static uint64_t Oldest(const Users& users);

  mutable std::mutex mu_;
  std::condition_variable readers_cv_;
  uint64_t epoch_ = 1;  // guarded by mu_
  Users readers_;       // guarded by mu_
  Users writers_;       // guarded by mu_
  struct Retired {
    uint64_t epoch;
    std::unique_ptr<MemSeries> series;
  };
  std::vector<Retired> retired_;  // guarded by mu_; by ascending epoch
};

}  // namespace kiln::tsdb
