#include "pkg/discovery/manager.h"

#include "pkg/discovery/config_fingerprint.h"
#include "pkg/discovery/dns_discoverer.h"
#include "pkg/discovery/file_discoverer.h"
#include "pkg/discovery/http_discoverer.h"

namespace kiln::discovery {
namespace {

template <typename T>
std::string Key(const char* kind, const T& cfg) {
  return kind + ConfigFingerprint(cfg);
}

std::vector<TargetGroup> StaticGroups(const std::vector<config::StaticConfig>& cfgs) {
  std::vector<TargetGroup> groups;
  for (size_t i = 0; i < cfgs.size(); ++i) {
    TargetGroup g;
    g.source = std::to_string(i);
    for (const std::string& t : cfgs[i].targets) {
      g.targets.push_back(model::Labels{{"__address__", t}});
    }
    std::vector<model::Label> labels;
    for (const auto& [k, v] : cfgs[i].labels) labels.push_back({k, v});
    g.labels = model::Labels::FromVector(std::move(labels));
    groups.push_back(std::move(g));
  }
  return groups;
}

}  // namespace

Manager::Manager(ManagerOptions options, Consumer consumer)
    : options_(std::move(options)), consumer_(std::move(consumer)) {
  sender_ = std::thread([this] { RunSender(); });
}

Manager::~Manager() { Stop(); }

Manager::Providers Manager::NewProviders(const std::string& job,
                                         const config::ServiceDiscoveryConfigs& sd) const {
  Providers out;
  auto add = [&](std::string key, std::unique_ptr<Discoverer> d) {
    auto p = std::make_unique<Provider>();
    p->job = job;
    p->key = std::move(key);
    p->discoverer = std::move(d);
    out.push_back(std::move(p));
  };
  Logger log = options_.logger.With({{"component", "discovery manager"}, {"job", job}});
  if (!sd.static_configs.empty()) {
    std::string key;
    for (const auto& c : sd.static_configs) key += Key("static", c);
    add(key, std::make_unique<StaticDiscoverer>(StaticGroups(sd.static_configs)));
  }
  for (const auto& c : sd.file_sd_configs) {
    add(Key("file", c), std::make_unique<FileDiscoverer>(c, log.With({{"discovery", "file"}})));
  }
  for (const auto& c : sd.http_sd_configs) {
    add(Key("http", c), std::make_unique<HttpDiscoverer>(c));
  }
  for (const auto& c : sd.dns_sd_configs) {
    add(Key("dns", c), std::make_unique<DnsDiscoverer>(c, log.With({{"discovery", "dns"}})));
  }
  for (const auto& u : sd.unsupported) {
    log.Warn("Service discovery mechanism not supported by Kiln; it discovers no targets",
             {{"kind", u.kind}, {"config", u.file + ":" + std::to_string(u.line)}});
  }
  return out;
}

void Manager::ApplyConfig(const std::map<std::string, config::ServiceDiscoveryConfigs>& jobs) {
  std::vector<std::unique_ptr<Provider>> retired;
  std::vector<Provider*> started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    std::map<std::string, Providers> next;
    for (const auto& [job, sd] : jobs) {
      Providers fresh = NewProviders(job, sd);
      auto old = jobs_.find(job);
      bool same = old != jobs_.end() && old->second.size() == fresh.size();
      for (size_t i = 0; same && i < fresh.size(); ++i) {
        same = old->second[i]->key == fresh[i]->key;
      }
      if (same) {
        next[job] = std::move(old->second);
        continue;
      }
      for (auto& p : fresh) started.push_back(p.get());
      next[job] = std::move(fresh);
    }
    for (auto& [job, providers] : jobs_) {
      for (auto& p : providers) {
        if (!p) continue;
        p->stop = true;
        p->cv.notify_all();
        retired.push_back(std::move(p));
      }
    }
    jobs_ = std::move(next);
    for (Provider* p : started) p->thread = std::thread([this, p] { RunProvider(p); });
    dirty_ = true;
    sender_cv_.notify_all();
  }
  for (auto& p : retired) {
    if (p->thread.joinable()) p->thread.join();
  }
}

void Manager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !sender_.joinable()) return;
    stopping_ = true;
    for (auto& [job, providers] : jobs_) {
      for (auto& p : providers) {
        p->stop = true;
        p->cv.notify_all();
      }
    }
    sender_cv_.notify_all();
  }
  for (auto& [job, providers] : jobs_) {
    for (auto& p : providers) {
      if (p->thread.joinable()) p->thread.join();
    }
  }
  if (sender_.joinable()) sender_.join();
}

void Manager::RunProvider(Provider* p) {
  Logger log = options_.logger.With({{"component", "discovery manager"}, {"job", p->job}});
  do {
    Result<std::vector<TargetGroup>> groups = p->discoverer->Refresh();
    if (!groups.ok()) {
      log.Error("Error refreshing service discovery", {{"err", groups.status().message()}});
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (p->stop) return;
    if (*groups != p->groups) {
      p->groups = std::move(*groups);
      dirty_ = true;
      sender_cv_.notify_all();
    }
  } while (WaitForRefresh(p));
}

bool Manager::WaitForRefresh(Provider* p) {
  using Clock = std::chrono::steady_clock;
  const auto interval = p->discoverer->RefreshInterval();
  const auto deadline = interval.count() > 0 ? Clock::now() + interval : Clock::time_point::max();
  std::unique_lock<std::mutex> lock(mu_);
  while (!p->stop) {
    auto wake = std::min(deadline, Clock::now() + options_.poll_interval);
    p->cv.wait_until(lock, wake, [p] { return p->stop; });
    if (p->stop) break;
    if (Clock::now() >= deadline) return true;
    lock.unlock();
    bool changed = p->discoverer->Changed();
    lock.lock();
    if (changed) return !p->stop;
  }
  return false;
}

Manager::TargetSets Manager::Collect() const {
  TargetSets sets;
  for (const auto& [job, providers] : jobs_) {
    auto& groups = sets[job];
    for (const auto& p : providers) groups.insert(groups.end(), p->groups.begin(), p->groups.end());
  }
  return sets;
}

void Manager::RunSender() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    sender_cv_.wait(lock, [this] { return dirty_ || stopping_; });
    if (stopping_) return;
    dirty_ = false;
    TargetSets sets = Collect();
    lock.unlock();
    consumer_(sets);
    lock.lock();
    sender_cv_.wait_for(lock, options_.update_interval, [this] { return stopping_; });
  }
}

}  // namespace kiln::discovery
