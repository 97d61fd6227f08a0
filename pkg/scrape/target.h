// Target: one scrape target — its labels before and after relabeling, its URL, and the health
// of its last scrape and the metadata it exposes, as /api/v1/targets and
// /api/v1/targets/metadata show them.
//
// PopulateLabels builds a target's labels from a target group exactly as upstream
// (scrape/target.go): group labels under target labels, then job, __scheme__,
// __metrics_path__, __scrape_interval__, __scrape_timeout__ and __param_<name> unless already
// set, then relabel_configs, then address checks, default port, __meta_* removal and the
// `instance` default.
//
// Thread-safe: labels and URL are immutable; health and metadata are guarded by mu_.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pkg/config/scrape_config.h"
#include "pkg/discovery/target_group.h"
#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/util/result.h"

namespace kiln::scrape {

enum class TargetHealth { kUnknown, kUp, kDown };
// "unknown", "up", "down" as the API prints them.
std::string_view TargetHealthName(TargetHealth h);

struct MetricMetadata {
  std::string metric;  // metric family name
  model::Metadata meta;
};

// Outcome of PopulateLabels: `labels` empty when relabeling dropped the target.
struct PopulatedLabels {
  model::Labels labels;      // after relabeling, still holding the __ labels
  model::Labels discovered;  // before relabeling
};
Result<PopulatedLabels> PopulateLabels(const model::Labels& group_labels,
                                       const model::Labels& target_labels,
                                       const config::ScrapeConfig& cfg);

class Target {
 public:
  // REQUIRES: `labels` came out of PopulateLabels (has __address__, __scheme__, …).
  Target(model::Labels labels, model::Labels discovered,
         const std::map<std::string, std::vector<std::string>>& params);

  // All labels, including __address__, __scheme__, __metrics_path__, __param_*.
  const model::Labels& all_labels() const { return labels_; }
  // The labels samples get: all but those starting with "__".
  const model::Labels& labels() const { return public_labels_; }
  const model::Labels& discovered_labels() const { return discovered_; }
  const std::string& url() const { return url_; }
  std::chrono::milliseconds interval() const { return interval_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // Identity within a pool: labels and URL (upstream's Target.hash).
  uint64_t hash() const { return hash_; }

  // Records the outcome of one scrape (start time in ms since the epoch).
  void Report(int64_t start_ms, std::chrono::nanoseconds duration, const Status& err);
  TargetHealth health() const;
  std::string last_error() const;
  int64_t last_scrape_ms() const;  // 0 before the first scrape
  double last_scrape_duration_seconds() const;

  // Metadata exposed by the target in its last scrapes, sorted by metric name.
  std::vector<MetricMetadata> metadata() const;
  bool GetMetadata(std::string_view metric, model::Metadata* out) const;
  void SetMetadata(std::vector<MetricMetadata> md);

 private:
  const model::Labels labels_;
  const model::Labels public_labels_;
  const model::Labels discovered_;
  const std::string url_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds timeout_;
  const uint64_t hash_;

  mutable std::mutex mu_;
  TargetHealth health_ = TargetHealth::kUnknown;  // guarded by mu_
  std::string last_error_;                        // guarded by mu_
  int64_t last_scrape_ms_ = 0;                    // guarded by mu_
  double last_duration_s_ = 0;                    // guarded by mu_
  std::vector<MetricMetadata> metadata_;          // guarded by mu_
};

}  // namespace kiln::scrape
