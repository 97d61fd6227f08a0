// Service discovery sections of a scrape config or Alertmanager config.
//
// Kiln implements static, file, HTTP and DNS discovery. Every other upstream mechanism
// (kubernetes_sd_configs, consul_sd_configs, ec2_sd_configs, …) is accepted so an unchanged
// prometheus.yml still loads, and recorded as an UnsupportedSDConfig: such a job discovers no
// targets, and Config::Warnings() names each one with file and line so the operator sees it
// at startup and on reload. Rejecting them instead would make Kiln refuse to start on configs
// where those jobs are merely a part of the setup. Plain value types (thread-compatible).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pkg/config/duration.h"
#include "pkg/config/http_config.h"

namespace kiln::config {

struct StaticConfig {
  static constexpr const char* kYamlType = "targetgroup.Group";
  std::vector<std::string> targets;
  std::map<std::string, std::string> labels;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("targets", s.targets);
    v("labels", s.labels);
  }
};

struct FileSDConfig {
  static constexpr const char* kYamlType = "file.SDConfig";
  std::vector<std::string> files;  // globs, resolved against the config file's directory
  Duration refresh_interval = Duration::Minutes(5);

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v.FileList("files", s.files);
    v("refresh_interval", s.refresh_interval);
  }
  Status Validate() const;
};

struct HTTPSDConfig {
  static constexpr const char* kYamlType = "http.SDConfig";
  HTTPClientConfig http;
  std::string url;
  Duration refresh_interval = Duration::Minutes(1);

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    HTTPClientConfig::Fields(v, s.http);
    v("url", s.url);
    v("refresh_interval", s.refresh_interval);
  }
  Status Validate();
};

struct DNSSDConfig {
  static constexpr const char* kYamlType = "dns.SDConfig";
  std::vector<std::string> names;
  Duration refresh_interval = Duration::Seconds(30);
  std::string type = "SRV";  // SRV, A, AAAA, MX, NS (upper-cased by Validate)
  int64_t port = 0;          // required for every type except SRV

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("names", s.names);
    v("refresh_interval", s.refresh_interval);
    v("type", s.type);
    v("port", s.port);
  }
  Status Validate();
};

// A discovery mechanism Kiln does not implement, kept verbatim for ToYaml and warnings.
struct UnsupportedSDConfig {
  std::string kind;  // e.g. "kubernetes_sd_configs"
  std::string file;
  int line = 0;
  std::string yaml;  // the list under `kind`, re-emitted by ToYaml
};

struct ServiceDiscoveryConfigs {
  std::vector<StaticConfig> static_configs;
  std::vector<FileSDConfig> file_sd_configs;
  std::vector<HTTPSDConfig> http_sd_configs;
  std::vector<DNSSDConfig> dns_sd_configs;
  std::vector<UnsupportedSDConfig> unsupported;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("static_configs", s.static_configs);
    v("file_sd_configs", s.file_sd_configs);
    v("http_sd_configs", s.http_sd_configs);
    v("dns_sd_configs", s.dns_sd_configs);
    v.UnsupportedSD(s.unsupported);
  }
};

// The upstream SD keys Kiln recognises but does not implement.
const std::vector<std::string>& UnsupportedSDKinds();

}  // namespace kiln::config
