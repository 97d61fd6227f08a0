// A StatusSource for the running server: flags, configuration, runtime facts of this process
// and TSDB statistics from a callback (web does not depend on tsdb; the wiring converts the
// head's stats). Thread-safe: the setters and the StatusSource methods may run concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "pkg/web/flags.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

class ServerStatus final : public StatusSource {
 public:
  struct Options {
    const web::Flags* flags = nullptr;                      // required, outlives this
    std::function<std::string()> config_yaml;               // the loaded config as YAML
    std::function<Result<TsdbStatus>(int64_t limit)> tsdb;  // null: an empty head
  };

  // Records now as the server's start time.
  explicit ServerStatus(Options options);

  // After each (re)load of the configuration.
  void SetConfigReload(bool success, std::chrono::system_clock::time_point at);
  void SetWalReplay(const WalReplayStatus& s);
  void AddCorruption();

  std::string ConfigYaml() override;
  std::map<std::string, std::string> Flags() override;
  RuntimeInfo Runtime() override;
  Result<TsdbStatus> Tsdb(int64_t limit) override;
  WalReplayStatus WalReplay() override;

 private:
  const Options options_;
  const std::chrono::system_clock::time_point start_;
  std::mutex mu_;
  bool reload_success_ = true;                         // guarded by mu_
  std::chrono::system_clock::time_point last_config_;  // guarded by mu_
  WalReplayStatus wal_replay_;                         // guarded by mu_
  int64_t corruptions_ = 0;                            // guarded by mu_
};

// Prometheus's model.Duration.String(): "15d", "1h30m", "1w", "0s".
std::string FormatPromDuration(int64_t ms);
// Go's units.Base2Bytes.String() as upstream prints --storage.tsdb.retention.size: "10GiB".
std::string FormatBase2Bytes(int64_t bytes);
// RFC 3339 with nanoseconds, trailing zeros trimmed, as Go's time.RFC3339Nano:
// "2026-11-21T23:20:38.860116125Z"; `whole_seconds` drops the fraction.
std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool whole_seconds = false);

}  // namespace kiln::web::api::v1
