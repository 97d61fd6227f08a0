// ReplayShards: applies WAL samples to series on worker threads during replay.
//
// Samples are partitioned by series ref, so each series is only ever touched by one worker
// and its samples arrive in WAL order; workers run while the caller decodes further records.
// Appending is bound by cache misses on the series and its chunk, which parallelises well.
//
// Thread-safety: Add and Finish are called from one thread (the replayer).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pkg/tsdb/mem_series.h"

namespace kiln::tsdb {

class ReplayShards {
 public:
  // Starts `n` workers (at least one) appending with `opts`.
  ReplayShards(size_t n, const ChunkOptions& opts);
  // Finishes if Finish() was not called.
  ~ReplayShards();
  ReplayShards(const ReplayShards&) = delete;
  ReplayShards& operator=(const ReplayShards&) = delete;

  // Queues one sample for `s`.
  void Add(MemSeries* s, int64_t t, double v);
  // Hands the queued samples to the workers (called after each record).
  void Flush();

  struct Totals {
    int64_t mint = std::numeric_limits<int64_t>::max();
    int64_t maxt = std::numeric_limits<int64_t>::min();
    uint64_t samples = 0;  // appended (duplicates and out-of-order ones are not)
    uint64_t chunks = 0;   // chunks cut
  };
  // Waits for every queued sample to be applied and stops the workers.
  Totals Finish();

 private:
  struct Sample {
    MemSeries* series;
    int64_t t;
    double v;
  };
  struct Shard {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::vector<Sample>> queue;  // guarded by mu
    bool done = false;                      // guarded by mu
    std::vector<Sample> pending;            // owned by the producer
    Totals totals;                          // owned by the worker until joined
    std::thread thread;
  };
  // Batches queued per shard before the producer waits: bounds memory during replay.
  static constexpr size_t kMaxQueued = 16;

  void Run(Shard* shard);

  const ChunkOptions opts_;
  std::vector<std::unique_ptr<Shard>> shards_;
  bool finished_ = false;
};

}  // namespace kiln::tsdb
