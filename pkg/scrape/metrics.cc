#include "pkg/scrape/metrics.h"

namespace kiln::scrape {
namespace {

prometheus::Counter& NewCounter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

}  // namespace

ScrapeMetrics::ScrapeMetrics(prometheus::Registry* registry)
    : own_(registry ? nullptr : std::make_shared<prometheus::Registry>()),
      reg_(registry ? *registry : *own_),
      out_of_order(NewCounter(reg_, "prometheus_target_scrapes_sample_out_of_order_total",
                              "Total number of samples rejected due to not being out of the "
                              "expected order.")),
      duplicate_timestamp(NewCounter(
          reg_, "prometheus_target_scrapes_sample_duplicate_timestamp_total",
          "Total number of samples rejected due to duplicate timestamps but different values.")),
      out_of_bounds(NewCounter(reg_, "prometheus_target_scrapes_sample_out_of_bounds_total",
                               "Total number of samples rejected due to timestamp falling "
                               "outside of the time bounds.")),
      exceeded_sample_limit(NewCounter(reg_,
                                       "prometheus_target_scrapes_exceeded_sample_limit_total",
                                       "Total number of scrapes that hit the sample limit and "
                                       "were rejected.")),
      exceeded_label_limits(NewCounter(reg_,
                                       "prometheus_target_scrapes_exceeded_label_limits_total",
                                       "Total number of scrapes that hit the label limits that "
                                       "were rejected.")),
      exceeded_body_size_limit(
          NewCounter(reg_, "prometheus_target_scrapes_exceeded_body_size_limit_total",
                     "Total number of scrapes that hit the body size limit")),
      pools_total(NewCounter(reg_, "prometheus_target_scrape_pools_total",
                             "Total number of scrape pool creation attempts.")),
      pool_reloads_total(NewCounter(reg_, "prometheus_target_scrape_pool_reloads_total",
                                    "Total number of scrape pool reloads.")),
      pool_exceeded_target_limit(NewCounter(
          reg_, "prometheus_target_scrape_pool_exceeded_target_limit_total",
          "Total number of times scrape pools hit the target limit, during sync or config "
          "reload.")),
      interval_length_(prometheus::BuildSummary()
                           .Name("prometheus_target_interval_length_seconds")
                           .Help("Actual intervals between scrapes.")
                           .Register(reg_)),
      pool_targets_(prometheus::BuildGauge()
                        .Name("prometheus_target_scrape_pool_targets")
                        .Help("Current number of targets in this scrape pool.")
                        .Register(reg_)) {}

prometheus::Summary& ScrapeMetrics::IntervalLength(const std::string& interval) {
  static const prometheus::Summary::Quantiles kQuantiles{
      {0.01, 0.001}, {0.05, 0.005}, {0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
  return interval_length_.Add({{"interval", interval}}, kQuantiles);
}

prometheus::Gauge& ScrapeMetrics::PoolTargets(const std::string& job) {
  return pool_targets_.Add({{"scrape_job", job}});
}

void ScrapeMetrics::RemovePool(const std::string& job) {
  pool_targets_.Remove(&pool_targets_.Add({{"scrape_job", job}}));
}

}  // namespace kiln::scrape
