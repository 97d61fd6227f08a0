// StripeSeries: the head's series registry, by ref and by label hash, split into lock
// stripes so concurrent appenders rarely contend (upstream tsdb/head.go stripeSeries).
//
// Owns every MemSeries until head GC unlinks it (Gc), which hands the series over to the
// caller: MemSeries* handed out earlier stay valid as long as the caller keeps it (see
// SeriesReclaimer).
// Thread-safe. Lock order: hash stripe, then ref stripe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/tsdb/mem_series.h"

namespace kiln::tsdb {

class StripeSeries {
 public:
  // REQUIRES: stripes is a power of two.
  explicit StripeSeries(size_t stripes);
  StripeSeries(const StripeSeries&) = delete;
  StripeSeries& operator=(const StripeSeries&) = delete;

  MemSeries* GetByRef(uint64_t ref) const;
  MemSeries* GetByHash(uint64_t hash, const model::Labels& labels) const;

  // The series with `labels`, creating it with ref `new_ref()` when absent. *created tells
  // which happened. `new_ref` runs under the stripe lock and must not re-enter.
  MemSeries* GetOrCreate(uint64_t hash, const model::Labels& labels,
                         const std::function<uint64_t()>& new_ref, bool* created);

  // Unlinks every series for which `collect` holds and returns them. `collect` runs with
  // the series' lock held (twice: once to find candidates, once more right before
  // unlinking, under the stripe locks, so a series revived in between stays); an unlinked
  // series is marked removed under that lock.
  std::vector<std::unique_ptr<MemSeries>> Gc(const std::function<bool(const MemSeries&)>& collect);

  // Calls f for every series (stripe by stripe, each stripe locked while visited).
  void ForEach(const std::function<void(MemSeries*)>& f) const;

  // Counts the Gc calls that unlinked something; it changes after their last unlink and
  // before they return. A MemSeries* found while the count was g is therefore still linked,
  // or retired no earlier than the count left g: a user of the SeriesReclaimer that entered
  // and then read g again may dereference it (and must check removed()).
  uint64_t gc_generation() const { return gc_generation_.load(std::memory_order_seq_cst); }

 private:
  struct HashStripe {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, MemSeries*> unique;  // guarded by mu
    // Series whose hash collides with one in `unique`; rare.
    std::unordered_map<uint64_t, std::vector<MemSeries*>> conflicts;  // guarded by mu
  };
  struct RefEntry {
    uint64_t ref;
    std::unique_ptr<MemSeries> series;
  };
  // Sorted by ref, in one array: GetByRef runs for every appended sample, and a binary
  // search over a few contiguous entries (refs are handed out in increasing order, so new
  // series append at the end) beats hashing into a node-based map: no division, and one
  // cache miss fewer.
  struct RefStripe {
    mutable std::mutex mu;
    std::vector<RefEntry> series;  // guarded by mu

    std::vector<RefEntry>::const_iterator LowerBound(uint64_t ref) const;
  };

  MemSeries* FindLocked(const HashStripe& s, uint64_t hash, const model::Labels& labels) const;

  const size_t mask_;
  std::atomic<uint64_t> gc_generation_{0};
  std::vector<HashStripe> hashes_;
  std::vector<RefStripe> refs_;
};

}  // namespace kiln::tsdb
