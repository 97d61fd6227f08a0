#include "web/api/v1/server_status.h"

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

namespace kiln::web::api::v1 {

namespace {

// Threads of this process (/proc/self/status), reported where Go reports goroutines.
int64_t ThreadCount() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoll(line.c_str() + 8);
  }
  return 0;
}

std::string WorkingDir() {
  char buf[4096];
  return getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : std::string();
}

}  // namespace

std::string FormatPromDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    int64_t ms;
    const char* name;
    bool exact;  // years and weeks only when they divide exactly: "90d", not "12w6d"
  };
  static constexpr Unit kUnits[] = {{365LL * 86400000, "y", true},
                                    {7LL * 86400000, "w", true},
                                    {86400000, "d", false},
                                    {3600000, "h", false},
                                    {60000, "m", false},
                                    {1000, "s", false},
                                    {1, "ms", false}};
  for (const auto& u : kUnits) {
    if (u.exact && ms % u.ms != 0) continue;
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

std::string FormatBase2Bytes(int64_t bytes) {
  // Go's units package prints the largest unit that divides exactly, and smaller units for
  // the remainder ("1GiB512MiB").
  static constexpr const char* kNames[] = {"EiB", "PiB", "TiB", "GiB", "MiB", "KiB"};
  if (bytes == 0) return "0B";
  std::string out;
  int64_t unit = int64_t{1} << 60;
  for (const char* name : kNames) {
    if (bytes >= unit) {
      out += std::to_string(bytes / unit) + name;
      bytes %= unit;
    }
    unit >>= 10;
  }
  if (bytes > 0) out += std::to_string(bytes) + "B";
  return out;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool whole_seconds) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (!whole_seconds && frac != 0) {
    std::string digits = std::to_string(frac + 1000000000).substr(1);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + "Z";
}

ServerStatus::ServerStatus(Options options)
    : options_(std::move(options)),
      start_(std::chrono::system_clock::now()),
      last_config_(start_) {}

void ServerStatus::SetConfigReload(bool success, std::chrono::system_clock::time_point at) {
  std::lock_guard<std::mutex> l(mu_);
  reload_success_ = success;
  if (success) last_config_ = at;
}

void ServerStatus::SetWalReplay(const WalReplayStatus& s) {
  std::lock_guard<std::mutex> l(mu_);
  wal_replay_ = s;
}

void ServerStatus::AddCorruption() {
  std::lock_guard<std::mutex> l(mu_);
  ++corruptions_;
}

std::string ServerStatus::ConfigYaml() {
  return options_.config_yaml ? options_.config_yaml() : std::string();
}

std::map<std::string, std::string> ServerStatus::Flags() { return options_.flags->values; }

RuntimeInfo ServerStatus::Runtime() {
  RuntimeInfo ri;
  ri.start_time = FormatRfc3339(start_);
  ri.cwd = WorkingDir();
  {
    std::lock_guard<std::mutex> l(mu_);
    ri.reload_config_success = reload_success_;
    ri.last_config_time = FormatRfc3339(last_config_, true);
    ri.corruption_count = corruptions_;
  }
  ri.goroutine_count = ThreadCount();
  ri.gomaxprocs = std::thread::hardware_concurrency();
  const int64_t retention = options_.flags->EffectiveRetentionMs();
  if (retention != 0) ri.storage_retention = FormatPromDuration(retention);
  if (options_.flags->retention_size_bytes != 0) {
    if (!ri.storage_retention.empty()) ri.storage_retention += " or ";
    ri.storage_retention += FormatBase2Bytes(options_.flags->retention_size_bytes);
  }
  return ri;
}

Result<TsdbStatus> ServerStatus::Tsdb(int64_t limit) {
  if (options_.tsdb) return options_.tsdb(limit);
  TsdbStatus st;
  st.min_time = std::numeric_limits<int64_t>::max();
  st.max_time = std::numeric_limits<int64_t>::min();
  return st;
}

WalReplayStatus ServerStatus::WalReplay() {
  std::lock_guard<std::mutex> l(mu_);
  return wal_replay_;
}

}  // namespace kiln::web::api::v1
