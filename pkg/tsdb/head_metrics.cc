#include "pkg/tsdb/head_metrics.h"

#include <string>

#include "pkg/util/metric_builders.h"

namespace kiln::tsdb {

using util::NewCounter;
using util::NewGauge;

namespace {

// Upstream's summaries have no quantiles: only _sum and _count.
prometheus::Summary& NewSummary(prometheus::Registry& r, const std::string& name,
                                const std::string& help) {
  return prometheus::BuildSummary().Name(name).Help(help).Register(r).Add(
      {}, prometheus::Summary::Quantiles{});
}

}  // namespace

HeadMetrics::HeadMetrics(prometheus::Registry* registry)
    : own_registry_(registry ? nullptr : std::make_shared<prometheus::Registry>()),
      registry_(registry ? *registry : *own_registry_),
      series(NewGauge(registry_, "prometheus_tsdb_head_series",
                      "Total number of series in the head block.")),
      series_created(NewCounter(registry_, "prometheus_tsdb_head_series_created_total",
                                "Total number of series created in the head")),
      chunks(NewGauge(registry_, "prometheus_tsdb_head_chunks",
                      "Total number of chunks in the head block.")),
      chunks_created(NewCounter(registry_, "prometheus_tsdb_head_chunks_created_total",
                                "Total number of chunks created in the head")),
      samples_appended(NewCounter(registry_, "prometheus_tsdb_head_samples_appended_total",
                                  "Total number of appended samples.", true)),
      out_of_order_samples(NewCounter(registry_, "prometheus_tsdb_out_of_order_samples_total",
                                      "Total number of out of order samples ingestion failed "
                                      "attempts due to out of order being disabled.",
                                      true)),
      out_of_bound_samples(NewCounter(registry_, "prometheus_tsdb_out_of_bound_samples_total",
                                      "Total number of out of bound samples ingestion failed "
                                      "attempts with out of order support disabled.",
                                      true)),
      active_appenders(NewGauge(registry_, "prometheus_tsdb_head_active_appenders",
                                "Number of currently active appender transactions")),
      min_time(NewGauge(registry_, "prometheus_tsdb_head_min_time",
                        "Minimum time bound of the head block.")),
      max_time(NewGauge(registry_, "prometheus_tsdb_head_max_time",
                        "Maximum timestamp of the head block.")),
      replay_duration(NewGauge(registry_, "prometheus_tsdb_data_replay_duration_seconds",
                               "Time taken to replay the data on disk.")),
      isolation_low_watermark(NewGauge(registry_, "prometheus_tsdb_isolation_low_watermark",
                                       "The lowest TSDB append ID that is still referenced.")),
      isolation_high_watermark(NewGauge(registry_, "prometheus_tsdb_isolation_high_watermark",
                                        "The highest TSDB append ID that has been given out.")),
      series_removed(NewCounter(registry_, "prometheus_tsdb_head_series_removed_total",
                                "Total number of series removed in the head")),
      chunks_removed(NewCounter(registry_, "prometheus_tsdb_head_chunks_removed_total",
                                "Total number of chunks removed in the head")),
      truncations(NewCounter(registry_, "prometheus_tsdb_head_truncations_total",
                             "Total number of head truncations attempted.")),
      truncations_failed(NewCounter(registry_, "prometheus_tsdb_head_truncations_failed_total",
                                    "Total number of head truncations that failed.")),
      checkpoint_creations(NewCounter(registry_, "prometheus_tsdb_checkpoint_creations_total",
                                      "Total number of checkpoint creations attempted.")),
      checkpoint_creations_failed(NewCounter(registry_,
                                             "prometheus_tsdb_checkpoint_creations_failed_total",
                                             "Total number of checkpoint creations that failed.")),
      checkpoint_deletions(NewCounter(registry_, "prometheus_tsdb_checkpoint_deletions_total",
                                      "Total number of checkpoint deletions attempted.")),
      checkpoint_deletions_failed(NewCounter(registry_,
                                             "prometheus_tsdb_checkpoint_deletions_failed_total",
                                             "Total number of checkpoint deletions that failed.")),
      min_time_seconds(NewGauge(registry_, "prometheus_tsdb_head_min_time_seconds",
                                "Minimum time bound of the head block.")),
      max_time_seconds(NewGauge(registry_, "prometheus_tsdb_head_max_time_seconds",
                                "Maximum timestamp of the head block.")),
      gc_duration(NewSummary(registry_, "prometheus_tsdb_head_gc_duration_seconds",
                             "Runtime of garbage collection in the head block.")),
      wal_truncate_duration(NewSummary(registry_, "prometheus_tsdb_wal_truncate_duration_seconds",
                                       "Duration of WAL truncation.")) {}

}  // namespace kiln::tsdb
