// Config: prometheus.yml as typed structs with Prometheus's defaults and validation.
//
// LoadFile reads the file, decodes it strictly (an unknown key is an error naming file, line
// and upstream's Go type, e.g. `prometheus.yml:12: field scrape_intervall not found in type
// config.ScrapeConfig`), merges scrape_config_files, resolves relative paths against the
// file's directory and fills every inherited default. A loaded Config is immutable and safe
// to share between threads; reloads build a new one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/config/byte_size.h"
#include "pkg/config/duration.h"
#include "pkg/config/http_config.h"
#include "pkg/config/scrape_config.h"
#include "pkg/config/sd_config.h"
#include "pkg/relabel/relabel.h"
#include "pkg/util/result.h"

namespace kiln::config {

struct GlobalConfig {
  static constexpr const char* kYamlType = "config.GlobalConfig";
  // Zero in YAML means unset; after loading: 1m, min(10s, scrape_interval), 1m.
  Duration scrape_interval;
  Duration scrape_timeout;
  std::vector<std::string> scrape_protocols;  // empty: per-job default
  Duration evaluation_interval;
  Duration rule_query_offset;
  std::string query_log_file;
  std::string scrape_failure_log_file;
  std::map<std::string, std::string> external_labels;
  ByteSize body_size_limit;
  uint64_t sample_limit = 0;
  uint64_t target_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t keep_dropped_targets = 0;
  std::string metric_name_validation_scheme = "utf8";
  std::string metric_name_escaping_scheme;
  std::optional<bool> scrape_native_histograms;
  bool convert_classic_histograms_to_nhcb = false;
  bool always_scrape_classic_histograms = false;
  bool extra_scrape_metrics = false;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("scrape_interval", s.scrape_interval);
    v("scrape_timeout", s.scrape_timeout);
    v("scrape_protocols", s.scrape_protocols);
    v("evaluation_interval", s.evaluation_interval);
    v("rule_query_offset", s.rule_query_offset);
    v.File("query_log_file", s.query_log_file);
    v.File("scrape_failure_log_file", s.scrape_failure_log_file);
    v("external_labels", s.external_labels);
    v("body_size_limit", s.body_size_limit);
    v("sample_limit", s.sample_limit);
    v("target_limit", s.target_limit);
    v("label_limit", s.label_limit);
    v("label_name_length_limit", s.label_name_length_limit);
    v("label_value_length_limit", s.label_value_length_limit);
    v("keep_dropped_targets", s.keep_dropped_targets);
    v("metric_name_validation_scheme", s.metric_name_validation_scheme);
    v("metric_name_escaping_scheme", s.metric_name_escaping_scheme);
    v("scrape_native_histograms", s.scrape_native_histograms);
    v("convert_classic_histograms_to_nhcb", s.convert_classic_histograms_to_nhcb);
    v("always_scrape_classic_histograms", s.always_scrape_classic_histograms);
    v("extra_scrape_metrics", s.extra_scrape_metrics);
  }
  // Fills defaults and checks the section; run by Load whether or not `global` is present.
  Status Finalize();
};

struct AlertmanagerConfig {
  static constexpr const char* kYamlType = "config.AlertmanagerConfig";
  HTTPClientConfig http;
  ServiceDiscoveryConfigs sd;
  std::string scheme = "http";
  std::string path_prefix = "/";
  Duration timeout = Duration::Seconds(10);
  std::string api_version = "v2";
  std::vector<relabel::RelabelConfig> relabel_configs;
  std::vector<relabel::RelabelConfig> alert_relabel_configs;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    HTTPClientConfig::Fields(v, s.http);
    ServiceDiscoveryConfigs::Fields(v, s.sd);
    v("scheme", s.scheme);
    v("path_prefix", s.path_prefix);
    v("timeout", s.timeout);
    v("api_version", s.api_version);
    v("relabel_configs", s.relabel_configs);
    v("alert_relabel_configs", s.alert_relabel_configs);
  }
  Status Validate();
};

struct AlertingConfig {
  static constexpr const char* kYamlType = "config.AlertingConfig";
  std::vector<relabel::RelabelConfig> alert_relabel_configs;
  std::vector<AlertmanagerConfig> alertmanagers;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("alert_relabel_configs", s.alert_relabel_configs);
    v("alertmanagers", s.alertmanagers);
  }
};

struct QueueConfig {
  static constexpr const char* kYamlType = "config.QueueConfig";
  int64_t capacity = 10000;
  int64_t max_shards = 50;
  int64_t min_shards = 1;
  int64_t max_samples_per_send = 2000;
  Duration batch_send_deadline = Duration::Seconds(5);
  Duration min_backoff = Duration::Millis(30);
  Duration max_backoff = Duration::Seconds(5);
  bool retry_on_http_429 = true;  // always true since Prometheus 3; kept for old configs
  Duration sample_age_limit;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("capacity", s.capacity);
    v("max_shards", s.max_shards);
    v("min_shards", s.min_shards);
    v("max_samples_per_send", s.max_samples_per_send);
    v("batch_send_deadline", s.batch_send_deadline);
    v("min_backoff", s.min_backoff);
    v("max_backoff", s.max_backoff);
    v("retry_on_http_429", s.retry_on_http_429);
    v("sample_age_limit", s.sample_age_limit);
  }
};

struct MetadataConfig {
  static constexpr const char* kYamlType = "config.MetadataConfig";
  bool send = true;
  Duration send_interval = Duration::Minutes(1);
  int64_t max_samples_per_send = 2000;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("send", s.send);
    v("send_interval", s.send_interval);
    v("max_samples_per_send", s.max_samples_per_send);
  }
};

struct RemoteWriteConfig {
  static constexpr const char* kYamlType = "config.RemoteWriteConfig";
  std::string url;
  // "file:line" of this entry, for messages; not part of the YAML.
  std::string origin;
  Duration remote_timeout = Duration::Seconds(30);
  std::map<std::string, std::string> headers;
  std::vector<relabel::RelabelConfig> write_relabel_configs;
  std::string name;
  bool send_exemplars = false;
  bool send_native_histograms = false;
  bool round_robin_dns = false;
  // "prometheus.WriteRequest" (1.0) or "io.prometheus.write.v2.Request" (2.0).
  std::string protobuf_message = "prometheus.WriteRequest";
  HTTPClientConfig http = DefaultHTTP();
  QueueConfig queue_config;
  MetadataConfig metadata_config;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("url", s.url);
    v("remote_timeout", s.remote_timeout);
    v("headers", s.headers);
    v("write_relabel_configs", s.write_relabel_configs);
    v("name", s.name);
    v("send_exemplars", s.send_exemplars);
    v("send_native_histograms", s.send_native_histograms);
    v("round_robin_dns", s.round_robin_dns);
    v("protobuf_message", s.protobuf_message);
    HTTPClientConfig::Fields(v, s.http);
    v("queue_config", s.queue_config);
    v("metadata_config", s.metadata_config);
  }
  Status Validate();
  // Remote write turns HTTP/2 off by default (upstream DefaultRemoteWriteHTTPClientConfig).
  static HTTPClientConfig DefaultHTTP() {
    HTTPClientConfig h;
    h.enable_http2 = false;
    return h;
  }
};

struct RemoteReadConfig {
  static constexpr const char* kYamlType = "config.RemoteReadConfig";
  std::string url;
  Duration remote_timeout = Duration::Minutes(1);
  int64_t chunked_read_limit = 50 * 1024 * 1024;
  std::map<std::string, std::string> headers;
  bool read_recent = false;
  std::string name;
  std::map<std::string, std::string> required_matchers;
  bool filter_external_labels = true;
  HTTPClientConfig http;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("url", s.url);
    v("remote_timeout", s.remote_timeout);
    v("chunked_read_limit", s.chunked_read_limit);
    v("headers", s.headers);
    v("read_recent", s.read_recent);
    v("name", s.name);
    HTTPClientConfig::Fields(v, s.http);
    v("required_matchers", s.required_matchers);
    v("filter_external_labels", s.filter_external_labels);
  }
  Status Validate();
};

struct TSDBRetentionConfig {
  static constexpr const char* kYamlType = "config.TSDBRetentionConfig";
  Duration time;
  ByteSize size;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("time", s.time);
    v("size", s.size);
  }
};

struct TSDBConfig {
  static constexpr const char* kYamlType = "config.TSDBConfig";
  Duration out_of_order_time_window;
  std::optional<TSDBRetentionConfig> retention;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("out_of_order_time_window", s.out_of_order_time_window);
    v("retention", s.retention);
  }
};

struct ExemplarsConfig {
  static constexpr const char* kYamlType = "config.ExemplarsConfig";
  int64_t max_exemplars = 100000;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("max_exemplars", s.max_exemplars);
  }
};

struct StorageConfig {
  static constexpr const char* kYamlType = "config.StorageConfig";
  std::optional<TSDBConfig> tsdb;
  ExemplarsConfig exemplars;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("tsdb", s.tsdb);
    v("exemplars", s.exemplars);
  }
};

struct OTLPConfig {
  static constexpr const char* kYamlType = "config.OTLPConfig";
  std::vector<std::string> promote_resource_attributes;
  bool promote_all_resource_attributes = false;
  std::vector<std::string> ignore_resource_attributes;
  std::string translation_strategy = "UnderscoreEscapingWithSuffixes";
  bool keep_identifying_resource_attributes = false;
  bool convert_histograms_to_nhcb = false;
  bool promote_scope_metadata = false;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("promote_resource_attributes", s.promote_resource_attributes);
    v("promote_all_resource_attributes", s.promote_all_resource_attributes);
    v("ignore_resource_attributes", s.ignore_resource_attributes);
    v("translation_strategy", s.translation_strategy);
    v("keep_identifying_resource_attributes", s.keep_identifying_resource_attributes);
    v("convert_histograms_to_nhcb", s.convert_histograms_to_nhcb);
    v("promote_scope_metadata", s.promote_scope_metadata);
  }
  Status Validate() const;
};

struct TracingConfig {
  static constexpr const char* kYamlType = "config.TracingConfig";
  std::string client_type = "grpc";
  std::string endpoint;
  double sampling_fraction = 0;
  bool insecure = false;
  TLSConfig tls_config;
  std::map<std::string, std::string> headers;
  std::string compression;
  Duration timeout;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("client_type", s.client_type);
    v("endpoint", s.endpoint);
    v("sampling_fraction", s.sampling_fraction);
    v("insecure", s.insecure);
    v("tls_config", s.tls_config);
    v("headers", s.headers);
    v("compression", s.compression);
    v("timeout", s.timeout);
  }
  Status Validate() const;
};

struct RuntimeConfig {
  static constexpr const char* kYamlType = "config.RuntimeConfig";
  int64_t gogc = 0;  // accepted for compatibility; Kiln has no garbage collector

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("gogc", s.gogc);
  }
};

struct Config {
  static constexpr const char* kYamlType = "config.Config";
  GlobalConfig global;
  RuntimeConfig runtime;
  AlertingConfig alerting;
  std::vector<std::string> rule_files;           // globs, absolute after loading
  std::vector<std::string> scrape_config_files;  // globs, absolute after loading
  // The main file's jobs followed by those merged from scrape_config_files.
  std::vector<ScrapeConfig> scrape_configs;
  StorageConfig storage;
  std::optional<TracingConfig> tracing;
  std::vector<RemoteWriteConfig> remote_write;
  std::vector<RemoteReadConfig> remote_read;
  OTLPConfig otlp;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("global", s.global);
    v("runtime", s.runtime);
    v("alerting", s.alerting);
    v.FileList("rule_files", s.rule_files);
    v.FileList("scrape_config_files", s.scrape_config_files);
    v("scrape_configs", s.scrape_configs);
    v("storage", s.storage);
    v("tracing", s.tracing);
    v("remote_write", s.remote_write);
    v("remote_read", s.remote_read);
    v("otlp", s.otlp);
  }

  // Human-readable notes about accepted-but-ignored settings (unsupported service discovery
  // mechanisms), each with file and line. Empty when everything configured is implemented.
  std::vector<std::string> Warnings() const;
  // The effective configuration as YAML (defaults filled in, secrets as `<secret>`), as served
  // by /api/v1/status/config.
  std::string ToYaml() const;
};

// Reads and validates `path`. Errors are bad data (or IO errors for unreadable files) whose
// message starts with "<path>:<line>: " when a line is known.
Result<Config> LoadFile(const std::string& path);
// Decodes `yaml` as if read from `filename` in directory `dir` (used by tests and reload).
Result<Config> Load(std::string_view yaml, const std::string& filename, const std::string& dir);

}  // namespace kiln::config
