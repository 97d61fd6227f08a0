#include "pkg/scrape/manager.h"

#include <unistd.h>

#include <algorithm>

#include "pkg/discovery/config_fingerprint.h"

namespace kiln::scrape {
namespace {

// Upstream seeds scrape offsets with the hostname and external labels, so that HA pairs
// scraping the same targets spread their scrapes differently.
uint64_t OffsetSeed(const config::Config& cfg) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::vector<model::Label> ext;
  for (const auto& [k, v] : cfg.global.external_labels) ext.push_back({k, v});
  std::string s = std::string(host) + model::Labels::FromVector(std::move(ext)).ToString();
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

ScrapeManager::ScrapeManager(ScrapeManagerOptions options)
    : options_(std::move(options)), metrics_(options_.registry) {}

ScrapeManager::~ScrapeManager() { Stop(); }

std::map<std::string, config::ServiceDiscoveryConfigs> ScrapeManager::DiscoveryConfigs(
    const config::Config& cfg) {
  std::map<std::string, config::ServiceDiscoveryConfigs> out;
  for (const auto& sc : cfg.scrape_configs) out[sc.job_name] = sc.sd;
  return out;
}

void ScrapeManager::ApplyConfig(const config::Config& cfg) {
  std::lock_guard<std::mutex> serial(update_mu_);
  std::vector<std::shared_ptr<ScrapePool>> removed;
  std::vector<std::pair<std::shared_ptr<ScrapePool>, std::shared_ptr<const config::ScrapeConfig>>>
      reload;
  std::vector<std::pair<std::shared_ptr<ScrapePool>, std::vector<discovery::TargetGroup>>> fresh;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    const uint64_t seed = OffsetSeed(cfg);
    const bool seed_changed = seed != offset_seed_;
    offset_seed_ = seed;
    std::map<std::string, std::shared_ptr<ScrapePool>> next;
    std::map<std::string, std::string> fps;
    for (const auto& sc : cfg.scrape_configs) {
      auto shared = std::make_shared<const config::ScrapeConfig>(sc);
      std::string fp = discovery::ConfigFingerprint(sc);
      auto old = pools_.find(sc.job_name);
      if (old != pools_.end() && !seed_changed) {
        if (fingerprints_[sc.job_name] != fp) reload.emplace_back(old->second, shared);
        next[sc.job_name] = old->second;
        pools_.erase(old);
      } else {
        if (old != pools_.end()) removed.push_back(old->second), pools_.erase(old);
        auto pool = std::make_shared<ScrapePool>(shared, options_.appendable, &metrics_, seed,
                                                 options_.logger);
        auto groups = sets_.find(sc.job_name);
        if (groups != sets_.end()) fresh.emplace_back(pool, groups->second);
        next[sc.job_name] = std::move(pool);
      }
      fps[sc.job_name] = std::move(fp);
    }
    for (auto& [job, pool] : pools_) removed.push_back(pool);
    pools_ = std::move(next);
    fingerprints_ = std::move(fps);
  }
  for (auto& [pool, groups] : fresh) pool->Sync(groups);
  for (auto& [pool, cfg_ptr] : reload) pool->Reload(cfg_ptr);
  // A removed job's targets are gone: their series get stale markers.
  for (auto& pool : removed) {
    pool->Sync({});
    pool->Stop();
  }
}

void ScrapeManager::UpdateTargets(
    const std::map<std::string, std::vector<discovery::TargetGroup>>& sets) {
  std::lock_guard<std::mutex> serial(update_mu_);
  std::vector<std::pair<std::shared_ptr<ScrapePool>, const std::vector<discovery::TargetGroup>*>>
      todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    sets_ = sets;
    for (const auto& [job, groups] : sets) {
      auto it = pools_.find(job);
      if (it != pools_.end()) todo.emplace_back(it->second, &groups);
    }
  }
  for (auto& [pool, groups] : todo) pool->Sync(*groups);
}

void ScrapeManager::Stop() {
  std::map<std::string, std::shared_ptr<ScrapePool>> pools;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    pools.swap(pools_);
  }
  for (auto& [job, pool] : pools) pool->Stop();
}

std::vector<std::shared_ptr<ScrapePool>> ScrapeManager::Pools() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<ScrapePool>> out;
  for (const auto& [job, pool] : pools_) out.push_back(pool);
  return out;
}

std::vector<std::string> ScrapeManager::ScrapePools() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [job, pool] : pools_) out.push_back(job);
  return out;
}

std::map<std::string, std::vector<std::shared_ptr<Target>>> ScrapeManager::TargetsActive() const {
  std::map<std::string, std::vector<std::shared_ptr<Target>>> out;
  for (const auto& pool : Pools()) out[pool->config()->job_name] = pool->ActiveTargets();
  return out;
}

std::map<std::string, std::vector<model::Labels>> ScrapeManager::TargetsDropped() const {
  std::map<std::string, std::vector<model::Labels>> out;
  for (const auto& pool : Pools()) out[pool->config()->job_name] = pool->DroppedTargets();
  return out;
}

std::map<std::string, size_t> ScrapeManager::TargetsDroppedCounts() const {
  std::map<std::string, size_t> out;
  for (const auto& pool : Pools()) out[pool->config()->job_name] = pool->DroppedCount();
  return out;
}

std::map<std::string, std::vector<model::Metadata>> ScrapeManager::Metadata(
    std::string_view metric) const {
  std::map<std::string, std::vector<model::Metadata>> out;
  for (const auto& [job, targets] : TargetsActive()) {
    for (const auto& t : targets) {
      for (const auto& m : t->metadata()) {
        if (!metric.empty() && m.metric != metric) continue;
        auto& list = out[m.metric];
        if (std::find(list.begin(), list.end(), m.meta) == list.end()) list.push_back(m.meta);
      }
    }
  }
  return out;
}

}  // namespace kiln::scrape
