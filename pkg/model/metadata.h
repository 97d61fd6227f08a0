// Metric metadata (type, help, unit) as scraped or received over remote_write.
#pragma once

#include <string>
#include <string_view>

namespace kiln::model {

enum class MetricType {
  kUnknown,
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateset,
};

// Prometheus's lowercase names: "counter", "gauge", "histogram", "gaugehistogram", "summary",
// "info", "stateset", "unknown".
std::string_view MetricTypeName(MetricType t);
MetricType ParseMetricType(std::string_view s);

struct Metadata {
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
  friend bool operator==(const Metadata&, const Metadata&) = default;
};

}  // namespace kiln::model
