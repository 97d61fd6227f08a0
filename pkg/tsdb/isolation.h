// Isolation: queries never see part of a commit.
//
// Every Commit() takes an append ID (increasing) for the time it spends writing samples into
// series, and tags each series' newly appended samples with it (see TxRuns). A reader takes
// an IsolationState when its querier is created: the highest ID handed out so far and the IDs
// still being applied at that moment. A sample is visible to the reader iff its ID is at most
// that maximum and not among the incomplete ones. This is upstream's scheme
// (tsdb/isolation.go) with one change: IDs are taken at the start of the apply phase of a
// commit rather than when an appender is created, so idle appenders cost nothing.
//
// The low watermark is an ID below which every sample is visible to every current and
// future reader; series drop their tags below it.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

namespace kiln::tsdb {

// What one reader may see. Immutable after creation; released with Isolation::CloseRead.
struct IsolationState {
  uint64_t max_append_id = 0;
  std::vector<uint64_t> incomplete;  // sorted
  uint64_t low_watermark = 0;        // registered in Isolation; kept for CloseRead

  bool Visible(uint64_t append_id) const;
};

class Isolation {
 public:
  Isolation() = default;
  Isolation(const Isolation&) = delete;
  Isolation& operator=(const Isolation&) = delete;

  // Starts the apply phase of a commit. Returns its ID; *low_watermark receives the current
  // low watermark (tags below it may be dropped while applying).
  uint64_t BeginAppend(uint64_t* low_watermark);
  // REQUIRES: id came from BeginAppend and was not ended yet.
  void EndAppend(uint64_t id);

  IsolationState OpenRead();
  // REQUIRES: `state` came from OpenRead and was not closed yet.
  void CloseRead(const IsolationState& state);

  uint64_t LowWatermark() const;
  // Number of commits currently applying (for tests and metrics).
  size_t OpenAppends() const;

 private:
  uint64_t LowWatermarkLocked() const;

  mutable std::mutex mu_;
  uint64_t last_id_ = 0;                 // guarded by mu_
  std::vector<uint64_t> open_appends_;   // guarded by mu_; sorted (IDs only grow)
  std::multiset<uint64_t> reader_lows_;  // guarded by mu_; low watermarks of open readers
};

}  // namespace kiln::tsdb
