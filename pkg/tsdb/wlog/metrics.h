// Metrics: the WAL's self-metrics, named as Prometheus names them
// (prometheus_tsdb_wal_fsync_duration_seconds, …_page_flushes_total, …). With a null
// registry every metric is a private, unexported instance, so callers never test for null.
// Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <memory>
#include <string>

namespace kiln::tsdb::wlog {

class Metrics {
 private:
  // Declared first: the metric references below are built in it when no registry is given.
  std::shared_ptr<prometheus::Registry> own_registry_;

 public:
  // Registers the metrics as `prefix` + name in `registry`, or keeps them private when
  // `registry` is null.
  Metrics(prometheus::Registry* registry, const std::string& prefix);
  ~Metrics();

  prometheus::Summary& fsync_duration;      // fsync_duration_seconds
  prometheus::Counter& page_flushes;        // page_flushes_total
  prometheus::Counter& page_completions;    // completed_pages_total
  prometheus::Counter& truncations_failed;  // truncations_failed_total
  prometheus::Counter& truncations;         // truncations_total
  prometheus::Counter& corruptions;         // corruptions_total (incremented by Repair)
  prometheus::Counter& writes_failed;       // writes_failed_total
  prometheus::Gauge& current_segment;       // segment_current
};

}  // namespace kiln::tsdb::wlog
