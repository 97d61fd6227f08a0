// One scrape_configs entry (upstream config.ScrapeConfig) with Prometheus's defaults.
//
// After Config loading every inherited field is filled in from `global` (interval, timeout,
// limits, protocols, name validation), so users read the effective values directly. Plain
// value type (thread-compatible).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/config/byte_size.h"
#include "pkg/config/duration.h"
#include "pkg/config/http_config.h"
#include "pkg/config/sd_config.h"
#include "pkg/relabel/relabel.h"

namespace kiln::config {

// Scrape protocol names as written in scrape_protocols / fallback_scrape_protocol.
inline constexpr std::string_view kPrometheusProto = "PrometheusProto";
inline constexpr std::string_view kPrometheusText004 = "PrometheusText0.0.4";
inline constexpr std::string_view kPrometheusText100 = "PrometheusText1.0.0";
inline constexpr std::string_view kOpenMetricsText001 = "OpenMetricsText0.0.1";
inline constexpr std::string_view kOpenMetricsText100 = "OpenMetricsText1.0.0";

// The Accept-header media type for a protocol name ("" when unknown), e.g.
// "text/plain;version=0.0.4".
std::string_view ScrapeProtocolHeader(std::string_view protocol);
// Upstream's default preference order (OpenMetrics first, then text).
const std::vector<std::string>& DefaultScrapeProtocols();
// The order used when native histograms are scraped (protobuf first).
const std::vector<std::string>& DefaultProtoFirstScrapeProtocols();
// The Accept header Prometheus sends for `protocols` (in preference order), with q-weights
// and `escaping=<scheme>` on the 1.0.0 text formats, ending in `*/*`, e.g.
// "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,…,*/*;q=0.2".
std::string ScrapeAcceptHeader(const std::vector<std::string>& protocols,
                               std::string_view escaping_scheme);

struct ScrapeConfig {
  static constexpr const char* kYamlType = "config.ScrapeConfig";
  std::string job_name;
  // "file:line" of this entry, for messages; not part of the YAML.
  std::string origin;
  bool honor_labels = false;
  bool honor_timestamps = true;
  bool track_timestamps_staleness = false;
  std::map<std::string, std::vector<std::string>> params;
  Duration scrape_interval;  // zero in YAML → global
  Duration scrape_timeout;   // zero in YAML → min(global timeout, interval)
  std::vector<std::string> scrape_protocols;
  std::string fallback_scrape_protocol;
  std::optional<bool> scrape_native_histograms;
  std::optional<bool> always_scrape_classic_histograms;
  std::optional<bool> convert_classic_histograms_to_nhcb;
  std::string scrape_failure_log_file;
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  bool enable_compression = true;
  ByteSize body_size_limit;
  uint64_t sample_limit = 0;
  uint64_t target_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t native_histogram_bucket_limit = 0;
  double native_histogram_min_bucket_factor = 0;
  uint64_t keep_dropped_targets = 0;
  std::string metric_name_validation_scheme;  // "utf8" or "legacy" after loading
  std::string metric_name_escaping_scheme;    // allow-utf-8, underscores, dots, values
  std::optional<bool> extra_scrape_metrics;
  ServiceDiscoveryConfigs sd;
  HTTPClientConfig http;
  std::vector<relabel::RelabelConfig> relabel_configs;
  std::vector<relabel::RelabelConfig> metric_relabel_configs;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("job_name", s.job_name);
    v("honor_labels", s.honor_labels);
    v("honor_timestamps", s.honor_timestamps);
    v("track_timestamps_staleness", s.track_timestamps_staleness);
    v("params", s.params);
    v("scrape_interval", s.scrape_interval);
    v("scrape_timeout", s.scrape_timeout);
    v("scrape_protocols", s.scrape_protocols);
    v("fallback_scrape_protocol", s.fallback_scrape_protocol);
    v("scrape_native_histograms", s.scrape_native_histograms);
    v("always_scrape_classic_histograms", s.always_scrape_classic_histograms);
    v("convert_classic_histograms_to_nhcb", s.convert_classic_histograms_to_nhcb);
    v.File("scrape_failure_log_file", s.scrape_failure_log_file);
    v("metrics_path", s.metrics_path);
    v("scheme", s.scheme);
    v("enable_compression", s.enable_compression);
    v("body_size_limit", s.body_size_limit);
    v("sample_limit", s.sample_limit);
    v("target_limit", s.target_limit);
    v("label_limit", s.label_limit);
    v("label_name_length_limit", s.label_name_length_limit);
    v("label_value_length_limit", s.label_value_length_limit);
    v("native_histogram_bucket_limit", s.native_histogram_bucket_limit);
    v("native_histogram_min_bucket_factor", s.native_histogram_min_bucket_factor);
    v("keep_dropped_targets", s.keep_dropped_targets);
    v("metric_name_validation_scheme", s.metric_name_validation_scheme);
    v("metric_name_escaping_scheme", s.metric_name_escaping_scheme);
    v("extra_scrape_metrics", s.extra_scrape_metrics);
    ServiceDiscoveryConfigs::Fields(v, s.sd);
    HTTPClientConfig::Fields(v, s.http);
    v("relabel_configs", s.relabel_configs);
    v("metric_relabel_configs", s.metric_relabel_configs);
  }
  // Checks that need only this section (job_name, scheme, HTTP client, static targets).
  Status Validate();
};

}  // namespace kiln::config
