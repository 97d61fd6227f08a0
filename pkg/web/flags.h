// Command-line flags of the kiln server: Prometheus's names, defaults and syntax, so an
// existing systemd unit or container command line keeps working.
//   --flag=value and --flag value; booleans as --flag, --no-flag or --flag=true|false;
//   --enable-feature repeatable, each value a comma list; -h/--help; --version.
// Errors use kingpin's wording ("unknown long flag '--x'", "expected argument for flag '--x'").
// Every flag of Prometheus 2.42 (plus Debian's renames) and 3.x is accepted; `values` prints
// them as Prometheus's /api/v1/status/flags does (Go's String() of the parsed value).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/util/logger.h"
#include "pkg/util/status.h"

namespace kiln::web {

struct Flags {
  std::string config_file = "prometheus.yml";
  std::string listen_address = "0.0.0.0:9090";
  std::string external_url;
  std::string route_prefix;  // "" = path of external_url, or "/"
  std::string web_config_file;
  bool enable_lifecycle = false;
  bool enable_admin_api = false;
  bool enable_remote_write_receiver = false;
  int max_connections = 512;
  int64_t read_timeout_ms = 5 * 60 * 1000;
  std::string cors_origin = ".*";  // an RE2/ECMAScript regex, fully anchored when used
  std::string page_title = "Prometheus Time Series Collection and Processing Server";
  std::string tsdb_path = "data/";
  int64_t retention_time_ms = 0;        // 0 = not set (see EffectiveRetentionMs)
  int64_t retention_size_bytes = 0;     // 0 = no size limit
  int64_t retention_deprecated_ms = 0;  // --storage.tsdb.retention (deprecated), 0 = not set
  int64_t min_block_duration_ms = 2 * 3600 * 1000;
  int64_t max_block_duration_ms = 0;  // 0 = not set (see EffectiveMaxBlockDurationMs)
  bool tsdb_no_lockfile = false;
  bool tsdb_wal_compression = true;
  int64_t tsdb_wal_segment_size = 0;  // 0 = the WAL's default segment size
  int64_t remote_read_sample_limit = 50'000'000;
  int64_t remote_read_concurrent_limit = 10;
  int64_t remote_read_max_bytes_in_frame = 1 << 20;
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  int64_t query_timeout_ms = 2 * 60 * 1000;
  int query_max_concurrency = 20;
  int64_t query_max_samples = 50'000'000;
  int64_t alert_resend_delay_ms = 60 * 1000;
  std::vector<std::string> features;
  LogLevel log_level = LogLevel::kInfo;
  enum Logger::Format log_format = Logger::Format::kLogfmt;
  bool show_help = false;
  bool show_version = false;

  // Every flag as /api/v1/status/flags reports it: name without dashes → value as given, or
  // the default.
  std::map<std::string, std::string> values;

  // Prometheus's rule: retention.time, else the deprecated retention flag, else 15d unless a
  // size limit was given.
  int64_t EffectiveRetentionMs() const;
  // Prometheus's rule: the flag, else 10% of the time retention, at most 31d.
  int64_t EffectiveMaxBlockDurationMs() const;
  bool FeatureEnabled(std::string_view name) const;
  // The path prefix all routes live under: --web.route-prefix, else the path of
  // --web.external-url, else "". Never ends in '/'.
  std::string RoutePrefix() const;
};

// Parses args (without the program name). On error returns kBadData with kingpin's message;
// `out` is then unspecified.
Status ParseFlags(const std::vector<std::string_view>& args, Flags* out);

// The --help text.
std::string FlagsUsage();

// Prometheus durations: one or more <number><unit> with units y, w, d, h, m, s, ms
// (e.g. "1h30m", "15d"), or "0".
bool ParsePromDuration(std::string_view s, int64_t* ms);
// Prometheus byte sizes: <number><unit> with B, KB, MB, GB, TB, PB, EB in powers of 2.
// Also accepts fractions ("1.5GB"), IEC units ("1GiB") and sequences ("1MiB512KiB"), as Go's
// units.ParseBase2Bytes.
bool ParseByteSize(std::string_view s, int64_t* bytes);

// Go's model.Duration.String(): "0s", "1d12h", "2w", "1y"; years and weeks only when exact.
std::string FormatPromDuration(int64_t ms);
// Go's units.Base2Bytes.String(): "0B", "512MiB", "1MiB512KiB".
std::string FormatByteSize(int64_t bytes);

}  // namespace kiln::web
