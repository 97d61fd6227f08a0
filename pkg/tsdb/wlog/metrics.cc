#include "pkg/tsdb/wlog/metrics.h"

#include "pkg/util/metric_builders.h"

namespace kiln::tsdb::wlog {
namespace {

prometheus::Registry& Target(prometheus::Registry* given,
                             std::shared_ptr<prometheus::Registry>* own) {
  if (given != nullptr) return *given;
  *own = std::make_shared<prometheus::Registry>();
  return **own;
}

}  // namespace

using util::NewCounter;
using util::NewGauge;

Metrics::Metrics(prometheus::Registry* registry, const std::string& prefix)
    : fsync_duration(
          prometheus::BuildSummary()
              .Name(prefix + "fsync_duration_seconds")
              .Help("Duration of write log fsync.")
              .Register(Target(registry, &own_registry_))
              .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}})),
      page_flushes(NewCounter(registry ? *registry : *own_registry_, prefix + "page_flushes_total",
                              "Total number of page flushes.")),
      page_completions(NewCounter(registry ? *registry : *own_registry_,
                                  prefix + "completed_pages_total",
                                  "Total number of completed pages.")),
      truncations_failed(NewCounter(registry ? *registry : *own_registry_,
                                    prefix + "truncations_failed_total",
                                    "Total number of write log truncations that failed.")),
      truncations(NewCounter(registry ? *registry : *own_registry_, prefix + "truncations_total",
                             "Total number of write log truncations attempted.")),
      corruptions(NewCounter(registry ? *registry : *own_registry_, prefix + "corruptions_total",
                             "Total number of WAL corruptions.")),
      writes_failed(NewCounter(registry ? *registry : *own_registry_,
                               prefix + "writes_failed_total",
                               "Total number of write log writes that failed.")),
      current_segment(NewGauge(registry ? *registry : *own_registry_, prefix + "segment_current",
                               "Write log segment index that TSDB is currently writing to.")) {}

Metrics::~Metrics() = default;

}  // namespace kiln::tsdb::wlog
