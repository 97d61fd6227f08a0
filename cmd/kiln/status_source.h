// KilnStatus: what /api/v1/status/{config,flags,runtimeinfo,tsdb,walreplay} report for this
// process. The head is attached once open; until then the TSDB page answers unavailable.
// Thread-safe: mu_ guards the config fields; head_ is atomic.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "pkg/tsdb/head.h"
#include "pkg/web/flags.h"
#include "web/api/v1/sources.h"

namespace kiln {

class KilnStatus final : public web::api::v1::StatusSource {
 public:
  // `flags` must outlive this object.
  explicit KilnStatus(const web::Flags& flags);

  void SetHead(tsdb::Head* head) { head_.store(head, std::memory_order_release); }
  // Records a (re)load attempt: the YAML is kept only when `ok`.
  void ConfigLoaded(bool ok, std::string yaml);

  std::string ConfigYaml() override;
  std::map<std::string, std::string> Flags() override { return flags_.values; }
  web::api::v1::RuntimeInfo Runtime() override;
  Result<web::api::v1::TsdbStatus> Tsdb(int64_t limit) override;
  // Replay finishes before the server is ready, so there is never progress to report.
  web::api::v1::WalReplayStatus WalReplay() override { return {}; }

 private:
  const web::Flags& flags_;
  const std::string start_time_;
  std::atomic<tsdb::Head*> head_{nullptr};
  std::mutex mu_;
  std::string config_yaml_;       // guarded by mu_
  bool last_reload_ok_ = true;    // guarded by mu_
  std::string last_config_time_;  // guarded by mu_
};

}  // namespace kiln
