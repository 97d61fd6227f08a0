// Discovery Manager: runs the service discovery providers of every job and hands the merged
// result, job name → all target groups of the job, to one consumer (the scrape manager, the
// notifier).
//
// Each provider runs on its own thread (see Discoverer). Updates are coalesced: the consumer
// is called at most once per `update_interval` (upstream's 5 s), with the complete current
// state of every job, including jobs that currently have no groups (so the consumer can drop
// their targets). The first update goes out as soon as a provider produced something.
// ApplyConfig keeps a job's providers, and their last result, when the job's discovery
// configuration did not change. Errors from a provider are logged and its last good groups
// are kept. Unsupported mechanisms (kubernetes_sd_configs, …) log one warning per job per
// ApplyConfig and discover nothing.
//
// Thread-safe. The consumer is called from the Manager's sender thread, never concurrently
// with itself; it must not call back into the Manager.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pkg/config/sd_config.h"
#include "pkg/discovery/discoverer.h"
#include "pkg/util/logger.h"

namespace kiln::discovery {

struct ManagerOptions {
  // Minimum time between two consumer calls.
  std::chrono::milliseconds update_interval{5000};
  // How often providers are asked whether they changed (file_sd mtime checks).
  std::chrono::milliseconds poll_interval{1000};
  Logger logger;
};

class Manager {
 public:
  using TargetSets = std::map<std::string, std::vector<TargetGroup>>;
  using Consumer = std::function<void(const TargetSets&)>;

  Manager(ManagerOptions options, Consumer consumer);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Replaces the set of jobs (job name → its discovery sections).
  void ApplyConfig(const std::map<std::string, config::ServiceDiscoveryConfigs>& jobs);
  // Stops every provider and the sender; no consumer call happens after it returns.
  void Stop();

 private:
  struct Provider {
    std::string job;
    std::string key;  // kind and the whole config, to detect changes
    std::unique_ptr<Discoverer> discoverer;
    std::vector<TargetGroup> groups;  // last good result; guarded by mu_
    bool stop = false;                // guarded by mu_
    std::condition_variable cv;
    std::thread thread;
  };
  using Providers = std::vector<std::unique_ptr<Provider>>;

  Providers NewProviders(const std::string& job, const config::ServiceDiscoveryConfigs& sd) const;
  void RunProvider(Provider* p);
  // Waits until the next refresh is due or the provider changed; false when stopped.
  bool WaitForRefresh(Provider* p);
  void RunSender();
  TargetSets Collect() const;  // REQUIRES: mu_ held

  const ManagerOptions options_;
  const Consumer consumer_;
  mutable std::mutex mu_;
  std::condition_variable sender_cv_;
  std::map<std::string, Providers> jobs_;  // guarded by mu_
  bool dirty_ = false;                     // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::thread sender_;
};

}  // namespace kiln::discovery
