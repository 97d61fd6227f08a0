// Prometheus's scrape self-metrics (prometheus_target_*), registered on a prometheus-cpp
// registry. Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <memory>
#include <string>

namespace kiln::scrape {

class ScrapeMetrics {
  // Declared first: every metric below is registered on reg_.
  std::shared_ptr<prometheus::Registry> own_;
  prometheus::Registry& reg_;

 public:
  // Registers on `registry`, or on a private registry when null (metrics then go nowhere).
  explicit ScrapeMetrics(prometheus::Registry* registry);

  // prometheus_target_interval_length_seconds{interval="15s"}.
  prometheus::Summary& IntervalLength(const std::string& interval);
  // prometheus_target_scrape_pool_targets{scrape_job="…"}.
  prometheus::Gauge& PoolTargets(const std::string& job);
  void RemovePool(const std::string& job);

  prometheus::Counter& out_of_order;
  prometheus::Counter& duplicate_timestamp;
  prometheus::Counter& out_of_bounds;
  prometheus::Counter& exceeded_sample_limit;
  prometheus::Counter& exceeded_label_limits;
  prometheus::Counter& exceeded_body_size_limit;
  prometheus::Counter& pools_total;
  prometheus::Counter& pool_reloads_total;
  prometheus::Counter& pool_exceeded_target_limit;

 private:
  prometheus::Family<prometheus::Summary>& interval_length_;
  prometheus::Family<prometheus::Gauge>& pool_targets_;
};

}  // namespace kiln::scrape
