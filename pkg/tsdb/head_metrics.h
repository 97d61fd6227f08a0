// HeadMetrics: the head's self-metrics, named as Prometheus names them, so dashboards built
// for Prometheus work unchanged. With a null registry the metrics live in a private registry
// (never exported), so the head never tests for null.
//
// Counters are bumped once per commit with the batch's totals, never per sample.
// Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <memory>

namespace kiln::tsdb {

class HeadMetrics {
 public:
  explicit HeadMetrics(prometheus::Registry* registry);
  HeadMetrics(const HeadMetrics&) = delete;
  HeadMetrics& operator=(const HeadMetrics&) = delete;

 private:
  // Declared first: the references below point into it when no registry is given.
  std::shared_ptr<prometheus::Registry> own_registry_;
  prometheus::Registry& registry_;

 public:
  prometheus::Gauge& series;                    // prometheus_tsdb_head_series
  prometheus::Counter& series_created;          // …_head_series_created_total
  prometheus::Gauge& chunks;                    // …_head_chunks
  prometheus::Counter& chunks_created;          // …_head_chunks_created_total
  prometheus::Counter& samples_appended;        // …_head_samples_appended_total{type="float"}
  prometheus::Counter& out_of_order_samples;    // prometheus_tsdb_out_of_order_samples_total
  prometheus::Counter& out_of_bound_samples;    // prometheus_tsdb_out_of_bound_samples_total
  prometheus::Gauge& active_appenders;          // …_head_active_appenders
  prometheus::Gauge& min_time;                  // …_head_min_time (ms)
  prometheus::Gauge& max_time;                  // …_head_max_time (ms)
  prometheus::Gauge& replay_duration;           // prometheus_tsdb_data_replay_duration_seconds
  prometheus::Gauge& isolation_low_watermark;   // prometheus_tsdb_isolation_low_watermark
  prometheus::Gauge& isolation_high_watermark;  // prometheus_tsdb_isolation_high_watermark
  prometheus::Counter& series_removed;          // …_head_series_removed_total
  prometheus::Counter& chunks_removed;          // …_head_chunks_removed_total
  prometheus::Counter& truncations;             // …_head_truncations_total
  prometheus::Counter& truncations_failed;      // …_head_truncations_failed_total
  prometheus::Counter& checkpoint_creations;    // prometheus_tsdb_checkpoint_creations_total
  prometheus::Counter& checkpoint_creations_failed;  // …_checkpoint_creations_failed_total
  prometheus::Counter& checkpoint_deletions;         // …_checkpoint_deletions_total
  prometheus::Counter& checkpoint_deletions_failed;  // …_checkpoint_deletions_failed_total
  prometheus::Gauge& min_time_seconds;               // prometheus_tsdb_head_min_time_seconds
  prometheus::Gauge& max_time_seconds;               // prometheus_tsdb_head_max_time_seconds
  prometheus::Summary& gc_duration;                  // prometheus_tsdb_head_gc_duration_seconds
  prometheus::Summary& wal_truncate_duration;  // prometheus_tsdb_wal_truncate_duration_seconds
};

}  // namespace kiln::tsdb
