#include "pkg/config/scrape_config.h"

#include <array>
#include <utility>

namespace kiln::config {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kProtocolHeaders = {{
    {kPrometheusProto,
     "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=delimited"},
    {kPrometheusText004, "text/plain;version=0.0.4"},
    {kPrometheusText100, "text/plain;version=1.0.0"},
    {kOpenMetricsText001, "application/openmetrics-text;version=0.0.1"},
    {kOpenMetricsText100, "application/openmetrics-text;version=1.0.0"},
}};

}  // namespace

std::string_view ScrapeProtocolHeader(std::string_view protocol) {
  for (const auto& [name, header] : kProtocolHeaders) {
    if (name == protocol) return header;
  }
  return "";
}

const std::vector<std::string>& DefaultScrapeProtocols() {
  static const auto* p = new std::vector<std::string>{
      std::string(kOpenMetricsText100), std::string(kOpenMetricsText001),
      std::string(kPrometheusText100), std::string(kPrometheusText004)};
  return *p;
}

const std::vector<std::string>& DefaultProtoFirstScrapeProtocols() {
  static const auto* p = new std::vector<std::string>{
      std::string(kPrometheusProto), std::string(kOpenMetricsText100),
      std::string(kOpenMetricsText001), std::string(kPrometheusText100),
      std::string(kPrometheusText004)};
  return *p;
}

std::string ScrapeAcceptHeader(const std::vector<std::string>& protocols,
                               std::string_view escaping_scheme) {
  std::string out;
  size_t weight = kProtocolHeaders.size() + 1;
  for (const auto& p : protocols) {
    out += ScrapeProtocolHeader(p);
    if (p == kPrometheusText100 || p == kOpenMetricsText100) {
      out += ";escaping=" + std::string(escaping_scheme);
    }
    out += ";q=0." + std::to_string(weight--) + ",";
  }
  return out + "*/*;q=0." + std::to_string(weight);
}

const std::vector<std::string>& UnsupportedSDKinds() {
  static const auto* kinds = new std::vector<std::string>{
      "azure_sd_configs",     "consul_sd_configs",      "digitalocean_sd_configs",
      "docker_sd_configs",    "dockerswarm_sd_configs", "ec2_sd_configs",
      "eureka_sd_configs",    "gce_sd_configs",         "hetzner_sd_configs",
      "ionos_sd_configs",     "kubernetes_sd_configs",  "kuma_sd_configs",
      "lightsail_sd_configs", "linode_sd_configs",      "marathon_sd_configs",
      "nerve_sd_configs",     "nomad_sd_configs",       "openstack_sd_configs",
      "ovhcloud_sd_configs",  "puppetdb_sd_configs",    "scaleway_sd_configs",
      "serverset_sd_configs", "stackit_sd_configs",     "triton_sd_configs",
      "uyuni_sd_configs",     "vultr_sd_configs"};
  return *kinds;
}

}  // namespace kiln::config
