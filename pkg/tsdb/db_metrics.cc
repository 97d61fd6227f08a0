#include "pkg/tsdb/db_metrics.h"

#include <string>

#include "pkg/util/metric_builders.h"

namespace kiln::tsdb {

using util::NewCounter;
using util::NewGauge;

DBMetrics::DBMetrics(prometheus::Registry* registry)
    : own_registry_(registry ? nullptr : std::make_shared<prometheus::Registry>()),
      registry_(registry ? *registry : *own_registry_),
      blocks_loaded(NewGauge(registry_, "prometheus_tsdb_blocks_loaded",
                             "Number of currently loaded data blocks")),
      reloads(NewCounter(registry_, "prometheus_tsdb_reloads_total",
                         "Number of times the database reloaded block data from disk.")),
      reloads_failed(NewCounter(registry_, "prometheus_tsdb_reloads_failures_total",
                                "Number of times the database failed to reloadBlocks block "
                                "data from disk.")),
      compactions_triggered(NewCounter(registry_, "prometheus_tsdb_compactions_triggered_total",
                                       "Total number of triggered compactions for the "
                                       "partition.")),
      compactions(NewCounter(registry_, "prometheus_tsdb_compactions_total",
                             "Total number of compactions that were executed for the "
                             "partition.")),
      compactions_failed(NewCounter(registry_, "prometheus_tsdb_compactions_failed_total",
                                    "Total number of compactions that failed for the "
                                    "partition.")),
      // Upstream's buckets: exponential from 1s, factor 2, 14 buckets.
      compaction_duration(
          prometheus::BuildHistogram()
              .Name("prometheus_tsdb_compaction_duration_seconds")
              .Help("Duration of compaction runs")
              .Register(registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256,
                                                               512, 1024, 2048, 4096, 8192})),
      time_retentions(NewCounter(registry_, "prometheus_tsdb_time_retentions_total",
                                 "The number of times that blocks were deleted because the "
                                 "maximum time limit was exceeded.")),
      size_retentions(NewCounter(registry_, "prometheus_tsdb_size_retentions_total",
                                 "The number of times that blocks were deleted because the "
                                 "maximum number of bytes was exceeded.")),
      blocks_bytes(NewGauge(registry_, "prometheus_tsdb_storage_blocks_bytes",
                            "The number of bytes that are currently used for local storage "
                            "by all blocks.")),
      retention_limit_bytes(NewGauge(registry_, "prometheus_tsdb_retention_limit_bytes",
                                     "Max number of bytes to be retained in the tsdb blocks, "
                                     "configured 0 means disabled")),
      retention_limit_seconds(NewGauge(registry_, "prometheus_tsdb_retention_limit_seconds",
                                       "How long to retain samples in storage.")),
      lowest_timestamp(NewGauge(registry_, "prometheus_tsdb_lowest_timestamp",
                                "Lowest timestamp value stored in the database. The unit is "
                                "decided by the library consumer.")),
      lowest_timestamp_seconds(NewGauge(registry_, "prometheus_tsdb_lowest_timestamp_seconds",
                                        "Lowest timestamp value stored in the database.")),
      clean_start(NewGauge(registry_, "prometheus_tsdb_clean_start",
                           "-1: lockfile is disabled. 0: a lockfile from a previous execution was "
                           "replaced. 1: lockfile creation was clean")),
      // Go's default buckets, as upstream leaves them.
      tombstone_cleanup(prometheus::BuildHistogram()
                            .Name("prometheus_tsdb_tombstone_cleanup_seconds")
                            .Help("The time taken to recompact blocks to remove tombstones.")
                            .Register(registry_)
                            .Add({}, prometheus::Histogram::BucketBoundaries{
                                         .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})) {}

}  // namespace kiln::tsdb
