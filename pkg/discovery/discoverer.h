// Discoverer: one service discovery provider (a static_configs list, one file_sd_configs
// entry, …) as the discovery Manager drives it.
//
// The Manager calls Refresh() on the provider's own thread, waits RefreshInterval(), and in
// between polls Changed() every poll interval so providers with cheap change detection (file
// mtimes) refresh early. A Discoverer is used by one thread at a time.
#pragma once

#include <chrono>
#include <vector>

#include "pkg/discovery/target_group.h"
#include "pkg/util/result.h"

namespace kiln::discovery {

class Discoverer {
 public:
  virtual ~Discoverer() = default;
  // The provider's complete current set of groups. On error the Manager keeps the last good
  // set and logs the error.
  virtual Result<std::vector<TargetGroup>> Refresh() = 0;
  // Time between refreshes; zero means "never refresh again" (static configs).
  virtual std::chrono::milliseconds RefreshInterval() const = 0;
  // Whether something changed since the last Refresh, worth refreshing before the interval.
  virtual bool Changed() { return false; }
};

// static_configs: one group per entry, sources "0", "1", … as upstream.
class StaticDiscoverer final : public Discoverer {
 public:
  explicit StaticDiscoverer(std::vector<TargetGroup> groups) : groups_(std::move(groups)) {}
  Result<std::vector<TargetGroup>> Refresh() override { return groups_; }
  std::chrono::milliseconds RefreshInterval() const override { return {}; }

 private:
  const std::vector<TargetGroup> groups_;
};

}  // namespace kiln::discovery
