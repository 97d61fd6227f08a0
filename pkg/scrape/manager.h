// ScrapeManager: one ScrapePool per scrape job, fed by configuration reloads and by the
// discovery manager's target updates (upstream's scrape.Manager).
//
// Wiring:
//   ScrapeManager scrape({.appendable = head, .registry = &registry, .logger = logger});
//   discovery::Manager sd({.logger = logger}, [&](const auto& sets) { scrape.UpdateTargets(sets);
//   }); on load / reload:  scrape.ApplyConfig(cfg);
//   sd.ApplyConfig(ScrapeManager::DiscoveryConfigs(cfg)); on shutdown:       sd.Stop();
//   scrape.Stop();   (before closing the storage)
//
// ApplyConfig creates pools for new jobs, stops pools of removed jobs (stale markers for
// their series) and reloads pools whose config changed; unchanged pools keep running.
// UpdateTargets syncs each pool with the job's current groups.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/config/config.h"
#include "pkg/discovery/target_group.h"
#include "pkg/scrape/scrape_pool.h"

namespace kiln::scrape {

struct ScrapeManagerOptions {
  storage::Appendable* appendable = nullptr;  // required; outlives the manager
  prometheus::Registry* registry = nullptr;   // self-metrics; optional
  Logger logger;
};

class ScrapeManager {
 public:
  explicit ScrapeManager(ScrapeManagerOptions options);
  ~ScrapeManager();
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // The discovery sections of every job, for discovery::Manager::ApplyConfig.
  static std::map<std::string, config::ServiceDiscoveryConfigs> DiscoveryConfigs(
      const config::Config& cfg);

  void ApplyConfig(const config::Config& cfg);
  // job name → all current groups of that job (discovery::Manager's consumer).
  void UpdateTargets(const std::map<std::string, std::vector<discovery::TargetGroup>>& sets);
  // Stops every pool (no stale markers: the server is shutting down).
  void Stop();

  // Job names with a pool, sorted (/api/v1/scrape_pools).
  std::vector<std::string> ScrapePools() const;
  // Per job, sorted by job: active targets (/api/v1/targets, /api/v1/targets/metadata).
  std::map<std::string, std::vector<std::shared_ptr<Target>>> TargetsActive() const;
  // Per job: discovered labels of dropped targets, and how many were dropped in total.
  std::map<std::string, std::vector<model::Labels>> TargetsDropped() const;
  std::map<std::string, size_t> TargetsDroppedCounts() const;
  // Distinct metadata per metric family across all targets (/api/v1/metadata); only `metric`
  // when non-empty.
  std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) const;

 private:
  std::vector<std::shared_ptr<ScrapePool>> Pools() const;

  const ScrapeManagerOptions options_;
  ScrapeMetrics metrics_;
  // Serialises ApplyConfig and UpdateTargets, which stop loops (waiting for in-flight scrapes)
  // without holding mu_, so the getters the API calls never wait for a scrape.
  std::mutex update_mu_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ScrapePool>> pools_;         // by job; guarded by mu_
  std::map<std::string, std::string> fingerprints_;                  // by job; guarded by mu_
  std::map<std::string, std::vector<discovery::TargetGroup>> sets_;  // guarded by mu_
  uint64_t offset_seed_ = 0;                                         // guarded by mu_
  bool stopped_ = false;                                             // guarded by mu_
};

}  // namespace kiln::scrape
