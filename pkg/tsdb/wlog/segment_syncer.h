// SegmentSyncer: fsyncs and closes finished WAL segments on a background thread, so that
// starting a new segment does not stall every appender behind a 128 MiB fsync (upstream
// does the same with its "actor" goroutine). Internal to pkg/tsdb/wlog.
//
// Thread-safe. The destructor waits for all queued segments.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "pkg/tsdb/wlog/metrics.h"
#include "pkg/tsdb/wlog/segment.h"
#include "pkg/util/logger.h"

namespace kiln::tsdb::wlog {

class SegmentSyncer {
 public:
  SegmentSyncer(Metrics* metrics, Logger logger);
  ~SegmentSyncer();
  SegmentSyncer(const SegmentSyncer&) = delete;
  SegmentSyncer& operator=(const SegmentSyncer&) = delete;

  // Queues a finished segment (all its bytes written) to be fsynced and closed.
  void Enqueue(std::unique_ptr<SegmentWriter> segment);
  // Waits until every queued segment is synced; returns the first error since the last
  // Wait (errors are also logged when they happen).
  Status Wait();

 private:
  void Run();

  Metrics* const metrics_;
  const Logger logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<SegmentWriter>> queue_;  // GUARDED_BY(mu_)
  bool busy_ = false;                                 // GUARDED_BY(mu_); syncing one now
  bool stop_ = false;                                 // GUARDED_BY(mu_)
  Status err_;                                        // GUARDED_BY(mu_)
  std::thread thread_;                                // started last, joined first
};

}  // namespace kiln::tsdb::wlog
