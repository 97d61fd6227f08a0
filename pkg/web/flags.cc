#include "pkg/web/flags.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <regex>

namespace kiln::web {

namespace {

enum class Kind { kString, kBool, kDuration, kSize, kInt, kFloat, kList };
// Prometheus refuses flags of the other mode; Kiln has no agent mode, so agent flags are
// accepted (and listed) but refused when given.
enum class Mode { kAny, kServer, kAgent };

struct FlagDef {
  std::string_view name;  // without "--"
  Kind kind;
  std::string_view default_value;
  std::string_view help;
  // Stores the value; false = invalid. Null for flags whose feature Kiln does not have: the
  // value is still validated by kind and listed in `values`.
  std::function<bool(Flags*, std::string_view)> set;
  bool hidden = false;  // left out of --help, as Prometheus's hidden flags
  Mode mode = Mode::kAny;
};

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// kingpin parses its int flags with strconv.ParseFloat and truncates ("5e7", "7.9" → 7).
// Negative values make no sense for any of them (Prometheus panics on some), so they are
// refused here.
bool ParseKingpinInt(std::string_view s, int64_t* out) {
  if (ParseInt(s, out)) return *out >= 0;
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d) || d < 0 || d >= 9.2e18) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool ParseFloat(std::string_view s, double* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

bool ParseBool(std::string_view s, bool* out) {
  if (s == "true" || s == "1") return *out = true, true;
  if (s == "false" || s == "0") return *out = false, true;
  return false;
}

// The value as Prometheus prints it: Go's String() of the parsed flag. nullopt = invalid.
// An empty default of a duration or size flag is Go's zero value.
std::optional<std::string> Canonical(Kind kind, std::string_view v) {
  switch (kind) {
    case Kind::kString:
    case Kind::kList:
      return std::string(v);
    case Kind::kBool: {
      bool b;
      if (!ParseBool(v, &b)) return std::nullopt;
      return b ? "true" : "false";
    }
    case Kind::kDuration: {
      int64_t ms = 0;
      if (!v.empty() && !ParsePromDuration(v, &ms)) return std::nullopt;
      return FormatPromDuration(ms);
    }
    case Kind::kSize: {
      int64_t bytes = 0;
      if (!v.empty() && !ParseByteSize(v, &bytes)) return std::nullopt;
      return FormatByteSize(bytes);
    }
    case Kind::kInt: {
      int64_t n = 0;
      if (!v.empty() && !ParseKingpinInt(v, &n)) return std::nullopt;
      return std::to_string(n);
    }
    case Kind::kFloat: {
      double d = 0;
      if (!ParseFloat(v, &d)) return std::nullopt;
      char buf[32];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest, as Go's 'g', -1
      return std::string(buf, p);
    }
  }
  return std::nullopt;
}

template <typename T>
std::function<bool(Flags*, std::string_view)> Str(T Flags::*field) {
  return [field](Flags* f, std::string_view v) { return (f->*field) = std::string(v), true; };
}

std::function<bool(Flags*, std::string_view)> Bool(bool Flags::*field) {
  return [field](Flags* f, std::string_view v) { return ParseBool(v, &(f->*field)); };
}

std::function<bool(Flags*, std::string_view)> Dur(int64_t Flags::*field) {
  return [field](Flags* f, std::string_view v) { return ParsePromDuration(v, &(f->*field)); };
}

std::function<bool(Flags*, std::string_view)> Size(int64_t Flags::*field) {
  return [field](Flags* f, std::string_view v) { return ParseByteSize(v, &(f->*field)); };
}

template <typename T>
std::function<bool(Flags*, std::string_view)> Int(T Flags::*field) {
  return [field](Flags* f, std::string_view v) {
    int64_t n;
    if (!ParseKingpinInt(v, &n) || n > std::numeric_limits<T>::max()) return false;
    f->*field = static_cast<T>(n);
    return true;
  };
}

// Accepts only one of `allowed` (kingpin's Enum).
std::function<bool(Flags*, std::string_view)> OneOf(std::vector<std::string_view> allowed) {
  return [allowed = std::move(allowed)](Flags*, std::string_view v) {
    return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
  };
}

bool SetFeatures(Flags* f, std::string_view v) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    if (!item.empty()) f->features.emplace_back(item);
    v = comma == std::string_view::npos ? "" : v.substr(comma + 1);
  }
  return true;
}

bool SetCorsOrigin(Flags* f, std::string_view v) {
  try {
    std::regex re("^(?:" + std::string(v) + ")$");
  } catch (const std::regex_error&) {
    return false;
  }
  f->cors_origin = std::string(v);
  return true;
}

constexpr std::string_view kServerOnly = " Use with server mode only.";

// Prometheus 2.42's flags (cmd/prometheus/main.go, with upstream's defaults, not Debian's
// patched paths), Debian's renames, and what 3.x added. Order is --help's.
const std::vector<FlagDef>& Defs() {
  static const std::vector<FlagDef> defs = {
      {"config.file", Kind::kString, "prometheus.yml", "Kiln configuration file path.",
       Str(&Flags::config_file)},
      {"config.auto-reload-interval", Kind::kDuration, "30s",
       "Specifies the interval for checking and automatically reloading the configuration file "
       "upon detecting changes. (Prometheus 3.x; accepted, not yet used.)",
       nullptr},
      {"web.listen-address", Kind::kString, "0.0.0.0:9090",
       "Address to listen on for UI, API, and telemetry.", Str(&Flags::listen_address)},
      {"auto-gomaxprocs", Kind::kBool, "true",
       "Automatically set GOMAXPROCS (Prometheus 3.x; no effect in Kiln).", nullptr},
      {"auto-gomemlimit", Kind::kBool, "true",
       "Automatically set GOMEMLIMIT (Prometheus 3.x; no effect in Kiln).", nullptr},
      {"auto-gomemlimit.ratio", Kind::kFloat, "0.9",
       "The ratio of reserved GOMEMLIMIT memory (Prometheus 3.x; no effect in Kiln).",
       [](Flags*, std::string_view v) {
         double d;
         return ParseFloat(v, &d) && d > 0 && d <= 1;
       }},
      {"web.config.file", Kind::kString, "",
       "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.",
       Str(&Flags::web_config_file)},
      {"web.read-timeout", Kind::kDuration, "5m",
       "Maximum duration before timing out read of the request, and closing idle connections.",
       Dur(&Flags::read_timeout_ms)},
      {"web.max-connections", Kind::kInt, "512", "Maximum number of simultaneous connections.",
       Int(&Flags::max_connections)},
      {"web.max-notifications-subscribers", Kind::kInt, "16",
       "Limits the maximum number of subscribers that can concurrently receive live "
       "notifications. (Prometheus 3.x; accepted, not yet used.)",
       nullptr},
      {"web.external-url", Kind::kString, "", "The URL under which Kiln is externally reachable.",
       Str(&Flags::external_url)},
      {"web.route-prefix", Kind::kString, "",
       "Prefix for the internal routes of web endpoints. Defaults to path of "
       "--web.external-url.",
       Str(&Flags::route_prefix)},
      {"web.local-assets", Kind::kString, "/usr/share/prometheus/web/",
       "Path to static asset/templates directory. (Debian's Prometheus; no effect in Kiln.)",
       nullptr},
      {"web.user-assets", Kind::kString, "", "Path to static asset directory, available at /user.",
       nullptr},
      {"web.enable-lifecycle", Kind::kBool, "false", "Enable shutdown and reload via HTTP request.",
       Bool(&Flags::enable_lifecycle)},
      {"web.enable-admin-api", Kind::kBool, "false",
       "Enable API endpoints for admin control actions.", Bool(&Flags::enable_admin_api)},
      {"web.enable-remote-write-receiver", Kind::kBool, "false",
       "Enable API endpoint accepting remote write requests.",
       Bool(&Flags::enable_remote_write_receiver)},
      {"web.remote-write-receiver.accepted-protobuf-messages", Kind::kList,
       "prometheus.WriteRequest",
       "List of the remote write protobuf messages to accept when receiving the remote writes. "
       "Supported values: prometheus.WriteRequest, io.prometheus.write.v2.Request (Prometheus "
       "3.x)",
       OneOf({"prometheus.WriteRequest", "io.prometheus.write.v2.Request"})},
      {"web.enable-otlp-receiver", Kind::kBool, "false",
       "Enable API endpoint accepting OTLP write requests. (Prometheus 3.x; not supported yet.)",
       nullptr},
      {"web.console.templates", Kind::kString, "consoles",
       "Path to the console template directory, available at /consoles.", nullptr},
      {"web.console.libraries", Kind::kString, "console_libraries",
       "Path to the console library directory.", nullptr},
      {"web.page-title", Kind::kString, "Prometheus Time Series Collection and Processing Server",
       "Document title of Prometheus instance.", Str(&Flags::page_title)},
      {"web.cors.origin", Kind::kString, ".*",
       "Regex for CORS origin. It is fully anchored. Example: "
       "'https?://(domain1|domain2)\\.com'",
       SetCorsOrigin},
      {"storage.tsdb.path", Kind::kString, "data/", "Base path for metrics storage.",
       Str(&Flags::tsdb_path), false, Mode::kServer},
      {"storage.tsdb.retention", Kind::kDuration, "",
       "[DEPRECATED] How long to retain samples in storage. This flag has been deprecated, use "
       "\"storage.tsdb.retention.time\" instead.",
       Dur(&Flags::retention_deprecated_ms), true, Mode::kServer},
      {"storage.tsdb.retention.time", Kind::kDuration, "",
       "How long to retain samples in storage. Defaults to 15d if no size limit is set.",
       Dur(&Flags::retention_time_ms), false, Mode::kServer},
      {"storage.tsdb.retention.size", Kind::kSize, "",
       "Maximum number of bytes that can be stored for blocks (e.g. 512MB).",
       Size(&Flags::retention_size_bytes), false, Mode::kServer},
      {"storage.tsdb.min-block-duration", Kind::kDuration, "2h",
       "Minimum duration of a data block before being persisted. For use in testing.",
       Dur(&Flags::min_block_duration_ms), true, Mode::kServer},
      {"storage.tsdb.max-block-duration", Kind::kDuration, "",
       "Maximum duration compacted blocks may span. For use in testing. (Defaults to 10% of the "
       "retention period.)",
       Dur(&Flags::max_block_duration_ms), true, Mode::kServer},
      {"storage.tsdb.max-block-chunk-segment-size", Kind::kSize, "",
       "The maximum size for a single chunk segment in a block. Example: 512MB", nullptr, true,
       Mode::kServer},
      {"storage.tsdb.wal-segment-size", Kind::kSize, "",
       "Size at which to split the tsdb WAL segment files. Example: 100MB",
       Size(&Flags::tsdb_wal_segment_size), true, Mode::kServer},
      {"storage.tsdb.no-lockfile", Kind::kBool, "false",
       "Do not create lockfile in data directory.", Bool(&Flags::tsdb_no_lockfile), false,
       Mode::kServer},
      {"storage.tsdb.use-lockfile", Kind::kBool, "true",
       "Create a lockfile in data directory (Debian's name; the inverse of "
       "--storage.tsdb.no-lockfile).",
       [](Flags* f, std::string_view v) {
         bool use;
         if (!ParseBool(v, &use)) return false;
         f->tsdb_no_lockfile = !use;
         return true;
       },
       false, Mode::kServer},
      {"storage.tsdb.allow-overlapping-blocks", Kind::kBool, "true",
       "[DEPRECATED] This flag has no effect. Overlapping blocks are enabled by default now.",
       nullptr, true, Mode::kServer},
      {"storage.tsdb.wal-compression", Kind::kBool, "true", "Compress the tsdb WAL.",
       Bool(&Flags::tsdb_wal_compression), true, Mode::kServer},
      {"storage.tsdb.head-chunks-write-queue-size", Kind::kInt, "0",
       "Size of the queue through which head chunks are written to the disk to be m-mapped, 0 "
       "disables the queue completely. Experimental.",
       nullptr, false, Mode::kServer},
      {"storage.agent.path", Kind::kString, "data-agent/",
       "Base path for metrics storage. Use with agent mode only.", nullptr, false, Mode::kAgent},
      {"storage.agent.wal-segment-size", Kind::kSize, "",
       "Size at which to split WAL segment files. Example: 100MB", nullptr, true, Mode::kAgent},
      {"storage.agent.wal-compression", Kind::kBool, "true",
       "Compress the agent WAL. Use with agent mode only.", nullptr, false, Mode::kAgent},
      {"storage.agent.wal-truncate-frequency", Kind::kDuration, "",
       "The frequency at which to truncate the WAL and remove old data.", nullptr, true,
       Mode::kAgent},
      {"storage.agent.retention.min-time", Kind::kDuration, "",
       "Minimum age samples may be before being considered for deletion when the WAL is "
       "truncated. Use with agent mode only.",
       nullptr, false, Mode::kAgent},
      {"storage.agent.retention.max-time", Kind::kDuration, "",
       "Maximum age samples may be before being forcibly deleted when the WAL is truncated. Use "
       "with agent mode only.",
       nullptr, false, Mode::kAgent},
      {"storage.agent.no-lockfile", Kind::kBool, "false",
       "Do not create lockfile in data directory. Use with agent mode only.", nullptr, false,
       Mode::kAgent},
      {"storage.agent.use-lockfile", Kind::kBool, "false",
       "Create a lockfile in data directory (Debian's name). Use with agent mode only.", nullptr,
       false, Mode::kAgent},
      {"storage.remote.flush-deadline", Kind::kDuration, "1m",
       "How long to wait flushing sample on shutdown or config reload.", nullptr},
      {"storage.remote.read-sample-limit", Kind::kInt, "5e7",
       "Maximum overall number of samples to return via the remote read interface, in a single "
       "query. 0 means no limit. This limit is ignored for streamed response types.",
       Int(&Flags::remote_read_sample_limit), false, Mode::kServer},
      {"storage.remote.read-concurrent-limit", Kind::kInt, "10",
       "Maximum number of concurrent remote read calls. 0 means no limit.",
       Int(&Flags::remote_read_concurrent_limit), false, Mode::kServer},
      {"storage.remote.read-max-bytes-in-frame", Kind::kInt, "1048576",
       "Maximum number of bytes in a single frame for streaming remote read response types "
       "before marshalling.",
       Int(&Flags::remote_read_max_bytes_in_frame), false, Mode::kServer},
      {"rules.alert.for-outage-tolerance", Kind::kDuration, "1h",
       "Max time to tolerate prometheus outage for restoring \"for\" state of alert.", nullptr,
       false, Mode::kServer},
      {"rules.alert.for-grace-period", Kind::kDuration, "10m",
       "Minimum duration between alert and restored \"for\" state. This is maintained only for "
       "alerts with configured \"for\" time greater than grace period.",
       nullptr, false, Mode::kServer},
      {"rules.alert.resend-delay", Kind::kDuration, "1m",
       "Minimum amount of time to wait before resending an alert to Alertmanager.",
       Dur(&Flags::alert_resend_delay_ms), false, Mode::kServer},
      {"rules.max-concurrent-evals", Kind::kInt, "4",
       "Global concurrency limit for independent rules that can run concurrently. (Prometheus "
       "3.x)",
       nullptr, false, Mode::kServer},
      {"scrape.adjust-timestamps", Kind::kBool, "true",
       "Adjust scrape timestamps by up to `scrape.timestamp-tolerance` to align them to the "
       "intended schedule.",
       nullptr, true},
      {"scrape.timestamp-tolerance", Kind::kDuration, "2ms",
       "Timestamp tolerance. See https://github.com/prometheus/prometheus/issues/7846 for more "
       "context. Experimental. This flag will be removed in a future release.",
       nullptr, true},
      {"scrape.discovery-reload-interval", Kind::kDuration, "5s",
       "Interval used by scrape manager to throttle target groups updates.", nullptr, true},
      {"scrape.name-escaping-scheme", Kind::kString, "values",
       "Method for escaping legacy invalid names when sending to Prometheus that does not "
       "support UTF-8. Can be one of \"values\", \"underscores\", or \"dots\". (Prometheus 3.x)",
       OneOf({"values", "underscores", "dots", "allow-utf-8"})},
      {"alertmanager.notification-queue-capacity", Kind::kInt, "10000",
       "The capacity of the queue for pending Alertmanager notifications.", nullptr, false,
       Mode::kServer},
      {"alertmanager.drain-notification-queue-on-shutdown", Kind::kBool, "true",
       "Send any outstanding Alertmanager notifications when shutting down. (Prometheus 3.x)",
       nullptr, false, Mode::kServer},
      {"alertmanager.timeout", Kind::kString, "", "Timeout for sending alerts to Alertmanager.",
       nullptr, true, Mode::kServer},
      {"query.lookback-delta", Kind::kDuration, "5m",
       "The maximum lookback duration for retrieving metrics during expression evaluations.",
       Dur(&Flags::lookback_delta_ms), false, Mode::kServer},
      {"query.timeout", Kind::kDuration, "2m",
       "Maximum time a query may take before being aborted.", Dur(&Flags::query_timeout_ms), false,
       Mode::kServer},
      {"query.max-concurrency", Kind::kInt, "20",
       "Maximum number of queries executed concurrently.", Int(&Flags::query_max_concurrency),
       false, Mode::kServer},
      {"query.max-samples", Kind::kInt, "50000000",
       "Maximum number of samples a single query can load into memory.",
       Int(&Flags::query_max_samples), false, Mode::kServer},
      {"enable-feature", Kind::kList, "", "Comma separated feature names to enable.", SetFeatures},
      {"log.level", Kind::kString, "info",
       "Only log messages with the given severity or above. One of: [debug, info, warn, error]",
       [](Flags* f, std::string_view v) { return Logger::ParseLevel(v, &f->log_level); }},
      {"log.format", Kind::kString, "logfmt",
       "Output format of log messages. One of: [logfmt, json]",
       [](Flags* f, std::string_view v) { return Logger::ParseFormat(v, &f->log_format); }},
  };
  return defs;
}

const FlagDef* Find(std::string_view name) {
  for (const auto& d : Defs()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Status BadFlag(std::string_view what) { return Status::BadData(what); }

// Applies one flag occurrence. `i` points at the argument; may consume the next one. The
// flag's name goes into `given`.
Status ApplyOne(const std::vector<std::string_view>& args, size_t* i, Flags* out,
                std::vector<const FlagDef*>* given) {
  std::string_view arg = args[*i];
  std::string_view body = arg.substr(2);
  size_t eq = body.find('=');
  std::string_view name = body.substr(0, eq);
  const FlagDef* def = Find(name);
  bool negated = false;
  if (def == nullptr && name.starts_with("no-")) {
    def = Find(name.substr(3));
    negated = def != nullptr && def->kind == Kind::kBool && eq == std::string_view::npos;
    if (!negated) def = nullptr;
  }
  if (def == nullptr) return BadFlag("unknown long flag '--" + std::string(name) + "'");
  std::string_view value;
  if (def->kind == Kind::kBool && eq == std::string_view::npos) {
    value = negated ? "false" : "true";
  } else if (eq != std::string_view::npos) {
    value = body.substr(eq + 1);
  } else if (*i + 1 < args.size()) {
    value = args[++*i];
  } else {
    return BadFlag("expected argument for flag '--" + std::string(name) + "'");
  }
  std::optional<std::string> shown = Canonical(def->kind, value);
  if (!shown || (def->kind != Kind::kString && def->kind != Kind::kList && value.empty()) ||
      (def->set && !def->set(out, value))) {
    return BadFlag("invalid value \"" + std::string(value) + "\" for flag '--" +
                   std::string(def->name) + "'");
  }
  std::string& listed = out->values[std::string(def->name)];
  const bool append =
      def->kind == Kind::kList && std::find(given->begin(), given->end(), def) != given->end();
  listed = append ? listed + "," + *shown : *shown;
  given->push_back(def);
  return Status::OK();
}

// Prometheus's checks after parsing (cmd/prometheus/main.go), with its messages.
Status Validate(const Flags& f, const std::vector<const FlagDef*>& given) {
  std::string agent_only;
  for (const FlagDef* d : given) {
    if (d->mode != Mode::kAgent) continue;
    const std::string quoted = "\"--" + std::string(d->name) + "\"";
    if (agent_only.find(quoted) == std::string::npos) {
      agent_only += (agent_only.empty() ? "" : " ") + quoted;
    }
  }
  if (!agent_only.empty()) {
    return BadFlag("The following flag(s) can only be used in agent mode: [" + agent_only + "]");
  }
  if (f.FeatureEnabled("agent")) {
    return BadFlag("--enable-feature=agent: Kiln has no agent mode");
  }
  constexpr int64_t kMiB = int64_t{1} << 20;
  if (f.tsdb_wal_segment_size != 0 &&
      (f.tsdb_wal_segment_size < 10 * kMiB || f.tsdb_wal_segment_size > 256 * kMiB)) {
    return BadFlag("flag 'storage.tsdb.wal-segment-size' must be set between 10MB and 256MB");
  }
  int64_t chunk_segment = 0;
  (void)ParseByteSize(f.values.at("storage.tsdb.max-block-chunk-segment-size"), &chunk_segment);
  if (chunk_segment != 0 && chunk_segment < kMiB) {
    return BadFlag("flag 'storage.tsdb.max-block-chunk-segment-size' must be set over 1MB");
  }
  return Status::OK();
}

}  // namespace

int64_t Flags::EffectiveRetentionMs() const {
  if (retention_time_ms > 0) return retention_time_ms;
  if (retention_deprecated_ms > 0) return retention_deprecated_ms;
  return retention_size_bytes > 0 ? 0 : int64_t{15} * 24 * 3600 * 1000;
}

int64_t Flags::EffectiveMaxBlockDurationMs() const {
  if (max_block_duration_ms > 0) return max_block_duration_ms;
  int64_t max = int64_t{31} * 24 * 3600 * 1000;
  const int64_t retention = EffectiveRetentionMs();
  if (retention != 0 && retention / 10 < max) max = retention / 10;
  return max;
}

bool Flags::FeatureEnabled(std::string_view name) const {
  for (const auto& f : features) {
    if (f == name) return true;
  }
  return false;
}

std::string Flags::RoutePrefix() const {
  std::string p = route_prefix;
  if (p.empty() && !external_url.empty()) {
    size_t scheme = external_url.find("://");
    size_t slash = external_url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash != std::string::npos) p = external_url.substr(slash);
  }
  if (!p.empty() && p[0] != '/') p = "/" + p;
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

Status ParseFlags(const std::vector<std::string_view>& args, Flags* out) {
  for (const auto& d : Defs()) {
    out->values[std::string(d.name)] = Canonical(d.kind, d.default_value).value_or("");
  }
  std::vector<const FlagDef*> given;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      out->show_help = true;
    } else if (a == "--version") {
      out->show_version = true;
    } else if (a.starts_with("--")) {
      KILN_RETURN_IF_ERROR(ApplyOne(args, &i, out, &given));
    } else if (a.starts_with("-") && a.size() > 1) {
      return BadFlag("unknown short flag '" + std::string(a.substr(0, 2)) + "'");
    } else {
      return BadFlag("unexpected " + std::string(a));
    }
  }
  KILN_RETURN_IF_ERROR(Validate(*out, given));
  // Prometheus lists the values it derived, not the flags as given.
  const std::string prefix = out->RoutePrefix();
  out->values["web.route-prefix"] = prefix.empty() ? "/" : prefix;
  out->values["storage.tsdb.max-block-duration"] =
      FormatPromDuration(out->EffectiveMaxBlockDurationMs());
  // The two lockfile flags are one setting; the last one given wins.
  out->values["storage.tsdb.no-lockfile"] = out->tsdb_no_lockfile ? "true" : "false";
  out->values["storage.tsdb.use-lockfile"] = out->tsdb_no_lockfile ? "false" : "true";
  return Status::OK();
}

std::string FlagsUsage() {
  std::string out =
      "usage: kiln [<flags>]\n\nThe Kiln monitoring server\n\nFlags:\n"
      "  -h, --help  Show context-sensitive help.\n"
      "      --version  Show application version.\n";
  for (const auto& d : Defs()) {
    if (d.hidden) continue;
    out += "      --" + std::string(d.name);
    if (d.kind != Kind::kBool) {
      out += d.default_value.empty() ? "=<value>" : "=\"" + std::string(d.default_value) + "\"";
    }
    out += "\n          " + std::string(d.help) + "\n";
  }
  return out;
}

bool ParsePromDuration(std::string_view s, int64_t* ms) {
  if (s == "0") return *ms = 0, true;
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1},         {"s", 1000},        {"m", 60'000},        {"h", 3'600'000},
      {"d", 86'400'000}, {"w", 604'800'000}, {"y", 31'536'000'000}};
  int64_t total = 0;
  int last_unit = -1;  // units must appear largest first, each at most once
  if (s.empty()) return false;
  while (!s.empty()) {
    size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    int64_t n;
    if (digits == 0 || !ParseInt(s.substr(0, digits), &n)) return false;
    s.remove_prefix(digits);
    int unit = -1;
    for (int u = 0; u < 7; ++u) {  // "ms" is tested before "m"
      if (s.starts_with(kUnits[u].first)) {
        unit = u;
        break;
      }
    }
    if (unit < 0 || (last_unit >= 0 && unit >= last_unit)) return false;
    last_unit = unit;
    if (n > (INT64_MAX - total) / kUnits[unit].second) return false;
    total += n * kUnits[unit].second;
    s.remove_prefix(kUnits[unit].first.size());
  }
  *ms = total;
  return true;
}

bool ParseByteSize(std::string_view s, int64_t* bytes) {
  // Longest suffixes first so "KiB" is not read as "B" after "Ki".
  static constexpr std::pair<std::string_view, int> kUnits[] = {
      {"EiB", 60}, {"PiB", 50}, {"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"EB", 60},
      {"PB", 50},  {"TB", 40},  {"GB", 30},  {"MB", 20},  {"KB", 10},  {"B", 0}};
  if (s.empty()) return false;
  double total = 0;
  while (!s.empty()) {
    size_t num = 0;
    while (num < s.size() && ((s[num] >= '0' && s[num] <= '9') || s[num] == '.')) ++num;
    double n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + num, n);
    if (num == 0 || ec != std::errc() || p != s.data() + num) return false;
    s.remove_prefix(num);
    int shift = -1;
    for (const auto& [suffix, sh] : kUnits) {
      if (s.starts_with(suffix)) {
        shift = sh;
        s.remove_prefix(suffix.size());
        break;
      }
    }
    if (shift < 0) return false;  // a unit is required
    total += n * std::ldexp(1.0, shift);
    if (total >= 9.2e18) return false;
  }
  *bytes = static_cast<int64_t>(total);
  return true;
}

std::string FormatPromDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    std::string_view name;
    int64_t ms;
    bool only_exact;  // 90d reads better than 12w6d
  };
  static constexpr Unit kUnits[] = {{"y", 31'536'000'000, true},
                                    {"w", 604'800'000, true},
                                    {"d", 86'400'000, false},
                                    {"h", 3'600'000, false},
                                    {"m", 60'000, false},
                                    {"s", 1000, false},
                                    {"ms", 1, false}};
  for (const Unit& u : kUnits) {
    if (u.only_exact && ms % u.ms != 0) continue;
    if (const int64_t n = ms / u.ms; n > 0) {
      out += std::to_string(n) + std::string(u.name);
      ms -= n * u.ms;
    }
  }
  return out;
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes == 0) return "0B";
  static constexpr std::string_view kPrefixes[] = {"", "K", "M", "G", "T", "P", "E"};
  // Each non-zero base-1024 digit, most significant first: 1572864 → "1MiB512KiB".
  std::string out;
  uint64_t n = static_cast<uint64_t>(bytes);
  for (int i = 0; n != 0; ++i, n /= 1024) {
    if (const uint64_t digit = n % 1024; digit != 0) {
      out.insert(0, std::to_string(digit) + std::string(kPrefixes[i]) + (i == 0 ? "B" : "iB"));
    }
  }
  return out;
}

}  // namespace kiln::web
