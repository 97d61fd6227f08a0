// ScrapePool: the targets of one scrape job and their loops (upstream's scrapePool).
//
// Sync builds targets from the job's discovered groups (PopulateLabels); a target whose
// identity (labels + URL) is unchanged keeps its running loop, new targets get a loop, and
// targets that disappeared have their loop stopped with stale markers. Targets dropped by
// relabeling are kept for the API (at most keep_dropped_targets when it is non-zero).
// Reload applies a changed scrape config by restarting every loop with the new settings; each
// new loop continues from the one it replaces (ScrapeLoop::TakeOver), keeping its series cache
// when only the interval, timeout, sample_limit or HTTP client settings changed.
// Over target_limit, every loop reports "target_limit exceeded" instead of scraping.
//
// Thread-safe: every method takes mu_; loops are stopped outside it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/discovery/target_group.h"
#include "pkg/scrape/scrape_loop.h"

namespace kiln::scrape {

class ScrapePool {
 public:
  ScrapePool(std::shared_ptr<const config::ScrapeConfig> cfg, storage::Appendable* appendable,
             ScrapeMetrics* metrics, uint64_t offset_seed, Logger logger);
  ~ScrapePool();
  ScrapePool(const ScrapePool&) = delete;
  ScrapePool& operator=(const ScrapePool&) = delete;

  void Sync(const std::vector<discovery::TargetGroup>& groups);
  void Reload(std::shared_ptr<const config::ScrapeConfig> cfg);
  // Stops every loop without stale markers (shutdown).
  void Stop();

  std::shared_ptr<const config::ScrapeConfig> config() const;
  // Active targets sorted by URL.
  std::vector<std::shared_ptr<Target>> ActiveTargets() const;
  // Discovered labels of targets dropped by relabeling (capped by keep_dropped_targets).
  std::vector<model::Labels> DroppedTargets() const;
  // How many targets relabeling dropped, whether kept or not.
  size_t DroppedCount() const;

 private:
  using Loops = std::map<uint64_t, std::unique_ptr<ScrapeLoop>>;  // by Target::hash()

  // Targets from groups_ by hash; fills dropped_. REQUIRES: mu_ held.
  std::map<uint64_t, std::shared_ptr<Target>> BuildTargets();
  // Stopped loops replaced on reload, by the identity of their series: URL and the labels
  // samples get (the target hash also covers __scrape_interval__ and __scrape_timeout__,
  // which a reload may change without changing the series).
  using Replaced = std::map<std::string, ScrapeLoop*>;
  static std::string SeriesIdentity(const Target& t);

  // Builds targets and starts new loops; returns the loops to stop. A new loop whose target
  // is in `replaced` takes over from that loop, which is then removed from `replaced`.
  // REQUIRES: mu_ held.
  std::vector<std::unique_ptr<ScrapeLoop>> SyncLocked(Replaced* replaced = nullptr,
                                                      bool reuse_cache = false);

  storage::Appendable* const appendable_;
  ScrapeMetrics* const metrics_;
  const uint64_t offset_seed_;
  const Logger logger_;

  mutable std::mutex mu_;
  std::shared_ptr<const config::ScrapeConfig> cfg_;  // guarded by mu_
  std::vector<discovery::TargetGroup> groups_;       // last synced; guarded by mu_
  Loops loops_;                                      // guarded by mu_
  std::vector<model::Labels> dropped_;               // guarded by mu_
  size_t dropped_count_ = 0;                         // guarded by mu_
  bool stopped_ = false;                             // guarded by mu_
};

}  // namespace kiln::scrape
