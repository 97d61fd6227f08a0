// HttpDiscoverer: http_sd_configs. GETs the configured URL (Accept: application/json,
// X-Prometheus-Refresh-Interval-Seconds, the configured auth) and expects 200 with
// Content-Type application/json holding a list of target groups. Each group gets source
// "<url>:<index>" and the label __meta_url. Any failure is returned as an error, so the
// Manager keeps the last good result, as upstream. Used by one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "pkg/config/sd_config.h"
#include "pkg/discovery/discoverer.h"
#include "pkg/discovery/http_client.h"

namespace kiln::discovery {

class HttpDiscoverer final : public Discoverer {
 public:
  explicit HttpDiscoverer(config::HTTPSDConfig cfg) : cfg_(std::move(cfg)) {}

  Result<std::vector<TargetGroup>> Refresh() override;
  std::chrono::milliseconds RefreshInterval() const override {
    return std::chrono::milliseconds(cfg_.refresh_interval.millis());
  }

 private:
  const config::HTTPSDConfig cfg_;
};

}  // namespace kiln::discovery
