// DBMetrics: the DB's self-metrics (blocks, compactions, reloads, retention), named as
// Prometheus names them so the stock Prometheus dashboards work. The head registers its
// own (HeadMetrics). With a null registry they live in a private registry, never exported.
//
// Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

namespace kiln::tsdb {

class DBMetrics {
 public:
  explicit DBMetrics(prometheus::Registry* registry);
  DBMetrics(const DBMetrics&) = delete;
  DBMetrics& operator=(const DBMetrics&) = delete;

 private:
  // Declared first: the references below point into it when no registry is given.
  std::shared_ptr<prometheus::Registry> own_registry_;
  prometheus::Registry& registry_;

 public:
  prometheus::Gauge& blocks_loaded;             // prometheus_tsdb_blocks_loaded
  prometheus::Counter& reloads;                 // prometheus_tsdb_reloads_total
  prometheus::Counter& reloads_failed;          // prometheus_tsdb_reloads_failures_total
  prometheus::Counter& compactions_triggered;   // …_compactions_triggered_total
  prometheus::Counter& compactions;             // prometheus_tsdb_compactions_total
  prometheus::Counter& compactions_failed;      // …_compactions_failed_total
  prometheus::Histogram& compaction_duration;   // …_compaction_duration_seconds
  prometheus::Counter& time_retentions;         // prometheus_tsdb_time_retentions_total
  prometheus::Counter& size_retentions;         // prometheus_tsdb_size_retentions_total
  prometheus::Gauge& blocks_bytes;              // prometheus_tsdb_storage_blocks_bytes
  prometheus::Gauge& retention_limit_bytes;     // prometheus_tsdb_retention_limit_bytes
  prometheus::Gauge& retention_limit_seconds;   // prometheus_tsdb_retention_limit_seconds
  prometheus::Gauge& lowest_timestamp;          // prometheus_tsdb_lowest_timestamp (ms)
  prometheus::Gauge& lowest_timestamp_seconds;  // …_lowest_timestamp_seconds
  prometheus::Gauge& clean_start;               // prometheus_tsdb_clean_start
  prometheus::Histogram& tombstone_cleanup;     // …_tombstone_cleanup_seconds
};

}  // namespace kiln::tsdb
