#include "pkg/web/flags.h"

#include <charconv>
#include <functional>

namespace kiln::web {

namespace {

enum class Kind { kString, kBool, kDuration, kSize, kInt, kList };

struct FlagDef {
  std::string_view name;  // without "--"
  Kind kind;
  std::string_view default_value;
  std::string_view help;
  std::function<bool(Flags*, std::string_view)> set;  // false = invalid value
  bool hidden = false;  // left out of --help, as Prometheus's hidden flags
};

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseBool(std::string_view s, bool* out) {
  if (s == "true" || s == "1") return *out = true, true;
  if (s == "false" || s == "0") return *out = false, true;
  return false;
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

template <typename T>
std::function<bool(Flags*, std::string_view)> Int(T Flags::*field) {
  return [field](Flags* f, std::string_view v) {
    int64_t n;
    if (!ParseInt(v, &n) || n < 0) return false;
    f->*field = static_cast<T>(n);
    return true;
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

const std::vector<FlagDef>& Defs() {
  static const std::vector<FlagDef> defs = {
      {"config.file", Kind::kString, "prometheus.yml", "Kiln configuration file path.",
       Str(&Flags::config_file)},
      {"web.listen-address", Kind::kString, "0.0.0.0:9090",
       "Address to listen on for UI, API, and telemetry.", Str(&Flags::listen_address)},
      {"web.config.file", Kind::kString, "",
       "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.",
       Str(&Flags::web_config_file)},
      {"web.max-connections", Kind::kInt, "512", "Maximum number of simultaneous connections.",
       Int(&Flags::max_connections)},
      {"web.external-url", Kind::kString, "", "The URL under which Kiln is externally reachable.",
       Str(&Flags::external_url)},
      {"web.route-prefix", Kind::kString, "",
       "Prefix for the internal routes of web endpoints. Defaults to path of "
       "--web.external-url.",
       Str(&Flags::route_prefix)},
      {"web.enable-lifecycle", Kind::kBool, "false", "Enable shutdown and reload via HTTP request.",
       Bool(&Flags::enable_lifecycle)},
      {"web.enable-admin-api", Kind::kBool, "false",
       "Enable API endpoints for admin control actions.", Bool(&Flags::enable_admin_api)},
      {"web.enable-remote-write-receiver", Kind::kBool, "false",
       "Enable API endpoint accepting remote write requests.",
       Bool(&Flags::enable_remote_write_receiver)},
      {"storage.tsdb.path", Kind::kString, "data/", "Base path for metrics storage.",
       Str(&Flags::tsdb_path)},
      {"storage.tsdb.retention.time", Kind::kDuration, "",
       "How long to retain samples in storage. Defaults to 15d if no size limit is set.",
       Dur(&Flags::retention_time_ms)},
      {"storage.tsdb.retention.size", Kind::kSize, "",
       "Maximum number of bytes that can be stored for blocks (e.g. 512MB).",
       [](Flags* f, std::string_view v) { return ParseByteSize(v, &f->retention_size_bytes); }},
      {"storage.tsdb.retention", Kind::kDuration, "",
       "[DEPRECATED] How long to retain samples in storage. This flag has been deprecated, use "
       "\"storage.tsdb.retention.time\" instead.",
       Dur(&Flags::retention_deprecated_ms), true},
      {"storage.tsdb.min-block-duration", Kind::kDuration, "2h",
       "Minimum duration of a data block before being persisted. For use in testing.",
       Dur(&Flags::min_block_duration_ms), true},
      {"storage.tsdb.max-block-duration", Kind::kDuration, "",
       "Maximum duration compacted blocks may span. For use in testing. (Defaults to 10% of the "
       "retention period.)",
       Dur(&Flags::max_block_duration_ms), true},
      {"storage.tsdb.no-lockfile", Kind::kBool, "false",
       "Do not create lockfile in data directory.", Bool(&Flags::tsdb_no_lockfile)},
      {"storage.tsdb.wal-compression", Kind::kBool, "true", "Compress the tsdb WAL.",
       Bool(&Flags::tsdb_wal_compression)},
      {"rules.alert.resend-delay", Kind::kDuration, "1m",
       "Minimum amount of time to wait before resending an alert to Alertmanager.",
       Dur(&Flags::alert_resend_delay_ms)},
      {"query.lookback-delta", Kind::kDuration, "5m",
       "The maximum lookback duration for retrieving metrics during expression evaluations.",
       Dur(&Flags::lookback_delta_ms)},
      {"query.timeout", Kind::kDuration, "2m",
       "Maximum time a query may take before being aborted.", Dur(&Flags::query_timeout_ms)},
      {"query.max-concurrency", Kind::kInt, "20",
       "Maximum number of queries executed concurrently.", Int(&Flags::query_max_concurrency)},
      {"query.max-samples", Kind::kInt, "50000000",
       "Maximum number of samples a single query can load into memory.",
       Int(&Flags::query_max_samples)},
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

// Applies one flag occurrence. `i` points at the argument; may consume the next one.
Status ApplyOne(const std::vector<std::string_view>& args, size_t* i, Flags* out) {
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
  if (!def->set(out, value)) {
    return BadFlag("invalid value \"" + std::string(value) + "\" for flag '--" +
                   std::string(def->name) + "'");
  }
  std::string& shown = out->values[std::string(def->name)];
  shown = def->kind == Kind::kList && !shown.empty() ? shown + "," + std::string(value)
                                                     : std::string(value);
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
  for (const auto& d : Defs()) out->values[std::string(d.name)] = std::string(d.default_value);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      out->show_help = true;
    } else if (a == "--version") {
      out->show_version = true;
    } else if (a.starts_with("--")) {
      KILN_RETURN_IF_ERROR(ApplyOne(args, &i, out));
    } else if (a.starts_with("-") && a.size() > 1) {
      return BadFlag("unknown short flag '" + std::string(a.substr(0, 2)) + "'");
    } else {
      return BadFlag("unexpected " + std::string(a));
    }
  }
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
    total += n * kUnits[unit].second;
    s.remove_prefix(kUnits[unit].first.size());
  }
  *ms = total;
  return true;
}

bool ParseByteSize(std::string_view s, int64_t* bytes) {
  static constexpr std::pair<std::string_view, int> kUnits[] = {
      {"EB", 60}, {"PB", 50}, {"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"B", 0}};
  for (const auto& [suffix, shift] : kUnits) {
    if (s.size() > suffix.size() && s.ends_with(suffix)) {
      int64_t n;
      if (!ParseInt(s.substr(0, s.size() - suffix.size()), &n) || n < 0) return false;
      if (shift > 0 && n > (INT64_MAX >> shift)) return false;
      *bytes = n << shift;
      return true;
    }
  }
  return false;
}

}  // namespace kiln::web
