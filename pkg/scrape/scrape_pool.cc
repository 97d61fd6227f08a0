#include "pkg/scrape/scrape_pool.h"

#include <algorithm>

#include "pkg/discovery/config_fingerprint.h"

namespace kiln::scrape {
namespace {

// Upstream's reusableCache: the scrape interval and timeout, sample_limit and the HTTP client
// settings change when and how a page is fetched, never which series it yields or their
// labels, so the cache of a loop is still valid under a config that differs only there.
bool ReusableCache(const config::ScrapeConfig& a, const config::ScrapeConfig& b) {
  auto key = [](config::ScrapeConfig c) {
    c.scrape_interval = {};
    c.scrape_timeout = {};
    c.sample_limit = 0;
    c.http = {};
    return discovery::ConfigFingerprint(c);
  };
  return key(a) == key(b);
}

}  // namespace

ScrapePool::ScrapePool(std::shared_ptr<const config::ScrapeConfig> cfg,
                       storage::Appendable* appendable, ScrapeMetrics* metrics,
                       uint64_t offset_seed, Logger logger)
    : appendable_(appendable),
      metrics_(metrics),
      offset_seed_(offset_seed),
      logger_(logger.With({{"component", "scrape manager"}, {"scrape_pool", cfg->job_name}})),
      cfg_(std::move(cfg)) {
  metrics_->pools_total.Increment();
}

ScrapePool::~ScrapePool() { Stop(); }

std::map<uint64_t, std::shared_ptr<Target>> ScrapePool::BuildTargets() {
  std::map<uint64_t, std::shared_ptr<Target>> wanted;
  dropped_.clear();
  dropped_count_ = 0;
  for (const auto& g : groups_) {
    for (size_t i = 0; i < g.targets.size(); ++i) {
      auto r = PopulateLabels(g.labels, g.targets[i], *cfg_);
      if (!r.ok()) {
        logger_.Error("Creating target failed",
                      {{"err", "instance " + std::to_string(i) + " in group " + g.source + ": " +
                                   r.status().message()}});
        continue;
      }
      if (r->labels.empty()) {
        ++dropped_count_;
        if (cfg_->keep_dropped_targets == 0 || dropped_.size() < cfg_->keep_dropped_targets) {
          dropped_.push_back(std::move(r->discovered));
        }
        continue;
      }
      auto t =
          std::make_shared<Target>(std::move(r->labels), std::move(r->discovered), cfg_->params);
      wanted.emplace(t->hash(), std::move(t));
    }
  }
  return wanted;
}

std::string ScrapePool::SeriesIdentity(const Target& t) {
  return t.url() + '\xff' + t.labels().ToString();
}

std::vector<std::unique_ptr<ScrapeLoop>> ScrapePool::SyncLocked(Replaced* replaced,
                                                                bool reuse_cache) {
  std::map<uint64_t, std::shared_ptr<Target>> wanted = BuildTargets();
  std::vector<std::unique_ptr<ScrapeLoop>> gone;
  for (auto it = loops_.begin(); it != loops_.end();) {
    if (wanted.count(it->first) == 0) {
      gone.push_back(std::move(it->second));
      it = loops_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<ScrapeLoop*> fresh;
  for (auto& [hash, target] : wanted) {
    if (loops_.count(hash) != 0) continue;
    auto loop =
        std::make_unique<ScrapeLoop>(target, cfg_, appendable_, metrics_, offset_seed_, logger_);
    if (replaced != nullptr) {
      auto old = replaced->find(SeriesIdentity(*target));
      if (old != replaced->end()) {
        loop->TakeOver(old->second, reuse_cache);
        replaced->erase(old);
      }
    }
    fresh.push_back(loop.get());
    loops_.emplace(hash, std::move(loop));
  }
  metrics_->PoolTargets(cfg_->job_name).Set(static_cast<double>(loops_.size()));
  Status forced;
  if (cfg_->target_limit > 0 && loops_.size() > cfg_->target_limit) {
    metrics_->pool_exceeded_target_limit.Increment();
    forced = Status::LimitExceeded(
        "target_limit exceeded (number of targets: " + std::to_string(loops_.size()) +
        ", limit: " + std::to_string(cfg_->target_limit) + ")");
  }
  for (auto& [hash, loop] : loops_) loop->SetForcedError(forced);
  for (ScrapeLoop* loop : fresh) loop->Start();
  return gone;
}

void ScrapePool::Sync(const std::vector<discovery::TargetGroup>& groups) {
  std::vector<std::unique_ptr<ScrapeLoop>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    groups_ = groups;
    gone = SyncLocked();
  }
  for (auto& loop : gone) loop->Stop(/*write_stale_markers=*/true);
}

void ScrapePool::Reload(std::shared_ptr<const config::ScrapeConfig> cfg) {
  Loops old;
  bool reuse_cache = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    old.swap(loops_);
    reuse_cache = ReusableCache(*cfg_, *cfg);
  }
  // Old loops finish their in-flight scrape before the new ones start, so the two never
  // append for the same target concurrently.
  for (auto& [hash, loop] : old) loop->Stop(/*write_stale_markers=*/false);
  Replaced replaced;  // the loops stay owned by `old`
  for (auto& [hash, loop] : old) replaced.emplace(SeriesIdentity(*loop->target()), loop.get());
  std::vector<std::unique_ptr<ScrapeLoop>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cfg_ = std::move(cfg);
    metrics_->pool_reloads_total.Increment();
    gone = SyncLocked(&replaced, reuse_cache);
  }
  for (auto& loop : gone) loop->Stop(true);
  // Targets the new config no longer yields (relabeling changed): their series go stale.
  for (auto& [identity, loop] : replaced) loop->MarkStale();
}

void ScrapePool::Stop() {
  Loops old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    old.swap(loops_);
    metrics_->RemovePool(cfg_->job_name);
  }
  for (auto& [hash, loop] : old) loop->Stop(false);
}

std::shared_ptr<const config::ScrapeConfig> ScrapePool::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cfg_;
}

std::vector<std::shared_ptr<Target>> ScrapePool::ActiveTargets() const {
  std::vector<std::shared_ptr<Target>> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [hash, loop] : loops_) out.push_back(loop->target());
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->url() < b->url(); });
  return out;
}

std::vector<model::Labels> ScrapePool::DroppedTargets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

size_t ScrapePool::DroppedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_count_;
}

}  // namespace kiln::scrape
