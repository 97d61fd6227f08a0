#include "pkg/scrape/api_json.h"

#include <time.h>

#include <algorithm>
#include <cctype>

#include "pkg/util/float_format.h"

namespace kiln::scrape {
namespace {

void AppendLabels(std::string* out, const model::Labels& ls) {
  out->push_back('{');
  bool first = true;
  for (const auto& l : ls) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

void AppendActive(std::string* out, const std::string& pool, const Target& t,
                  const GlobalUrlOptions& global) {
  *out += "{\"discoveredLabels\":";
  AppendLabels(out, t.discovered_labels());
  *out += ",\"labels\":";
  AppendLabels(out, t.labels());
  *out += ",\"scrapePool\":";
  AppendJsonString(out, pool);
  *out += ",\"scrapeUrl\":";
  AppendJsonString(out, t.url());
  *out += ",\"globalUrl\":";
  AppendJsonString(out, GlobalUrl(t.url(), global));
  *out += ",\"lastError\":";
  AppendJsonString(out, t.last_error());
  *out += ",\"lastScrape\":";
  AppendJsonString(out, FormatRfc3339Millis(t.last_scrape_ms()));
  *out += ",\"lastScrapeDuration\":" + FormatFloatF(t.last_scrape_duration_seconds());
  *out += ",\"health\":";
  AppendJsonString(out, TargetHealthName(t.health()));
  *out += ",\"scrapeInterval\":";
  AppendJsonString(out, t.all_labels().Get("__scrape_interval__"));
  *out += ",\"scrapeTimeout\":";
  AppendJsonString(out, t.all_labels().Get("__scrape_timeout__"));
  out->push_back('}');
}

// Go's net.SplitHostPort for the forms URLs carry: "host:port" and "[v6]:port". False when
// there is no port.
bool SplitHostPort(std::string_view hostport, std::string_view* host, std::string_view* port) {
  size_t colon;
  if (!hostport.empty() && hostport[0] == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos || close + 1 >= hostport.size() ||
        hostport[close + 1] != ':') {
      return false;
    }
    *host = hostport.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = hostport.find(':');
    if (colon == std::string_view::npos ||
        hostport.find(':', colon + 1) != std::string_view::npos) {
      return false;
    }
    *host = hostport.substr(0, colon);
  }
  *port = hostport.substr(colon + 1);
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string GlobalUrl(std::string_view url, const GlobalUrlOptions& opts) {
  const size_t scheme_end = url.find("://");
  if (opts.host.empty() || scheme_end == std::string_view::npos) return std::string(url);
  const size_t host_start = scheme_end + 3;
  const size_t host_end = std::min(url.find_first_of("/?#", host_start), url.size());
  std::string_view host, port;
  if (!SplitHostPort(url.substr(host_start, host_end - host_start), &host, &port)) {
    return std::string(url);
  }
  if (host != "127.0.0.1" && host != "localhost" && host != "::1") return std::string(url);
  std::string_view own_host, own_port, ext_host, ext_port;
  if (!SplitHostPort(opts.listen_address, &own_host, &own_port)) return std::string(url);
  std::string scheme(url.substr(0, scheme_end)), hostport;
  if (port == own_port) {
    // Our own process: the external URL is exactly how others reach it.
    scheme = opts.scheme;
    hostport = opts.host;
  } else {
    // Only the loopback host is known to be unreachable; keep the target's port.
    if (!SplitHostPort(opts.host, &ext_host, &ext_port)) return std::string(url);
    hostport = (ext_host.find(':') != std::string_view::npos ? "[" + std::string(ext_host) + "]"
                                                             : std::string(ext_host)) +
               ":" + std::string(port);
  }
  return scheme + "://" + hostport + std::string(url.substr(host_end));
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        *out += "\\\"";
        continue;
      case '\\':
        *out += "\\\\";
        continue;
      case '\n':
        *out += "\\n";
        continue;
      case '\r':
        *out += "\\r";
        continue;
      case '\t':
        *out += "\\t";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      *out += "\\u00";
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      *out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

std::string FormatRfc3339Millis(int64_t ms) {
  if (ms == 0) return "0001-01-01T00:00:00Z";
  time_t secs = static_cast<time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) frac += 1000, --secs;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[8];
    snprintf(f, sizeof f, ".%03d", frac);
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();  // Go's RFC3339Nano trims trailing zeros
    out += fs;
  }
  return out + "Z";
}

std::string TargetsJson(const ScrapeManager& m, std::string_view state_param,
                        std::string_view scrape_pool, const GlobalUrlOptions& global) {
  const std::string state = Lower(state_param);
  const bool active = state.empty() || state == "any" || state == "active";
  const bool dropped = state.empty() || state == "any" || state == "dropped";
  std::string out = "{\"activeTargets\":[";
  bool first = true;
  if (active) {
    for (const auto& [pool, targets] : m.TargetsActive()) {
      if (!scrape_pool.empty() && pool != scrape_pool) continue;
      for (const auto& t : targets) {
        if (!first) out.push_back(',');
        first = false;
        AppendActive(&out, pool, *t, global);
      }
    }
  }
  out += "],\"droppedTargets\":[";
  first = true;
  if (dropped) {
    for (const auto& [pool, targets] : m.TargetsDropped()) {
      if (!scrape_pool.empty() && pool != scrape_pool) continue;
      for (const auto& labels : targets) {
        if (!first) out.push_back(',');
        first = false;
        out += "{\"discoveredLabels\":";
        AppendLabels(&out, labels);
        out += ",\"scrapePool\":";
        AppendJsonString(&out, pool);
        out.push_back('}');
      }
    }
  }
  out += "],\"droppedTargetCounts\":";
  if (!dropped) return out + "null}";
  out.push_back('{');
  first = true;
  for (const auto& [pool, count] : m.TargetsDroppedCounts()) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(&out, pool);
    out += ":" + std::to_string(count);
  }
  return out + "}}";
}

std::string ScrapePoolsJson(const ScrapeManager& m) {
  std::string out = "{\"scrapePools\":[";
  bool first = true;
  for (const std::string& pool : m.ScrapePools()) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(&out, pool);
  }
  return out + "]}";
}

std::string TargetsMetadataJson(const ScrapeManager& m,
                                const std::vector<model::Matcher>& match_target,
                                std::string_view metric, int64_t limit) {
  std::string out = "[";
  int64_t n = 0;
  auto add = [&](const Target& t, std::string_view name, const model::Metadata& md) {
    if (n++ > 0) out.push_back(',');
    out += "{\"target\":";
    AppendLabels(&out, t.labels());
    if (!name.empty()) {  // upstream's omitempty: absent when the request named the metric
      out += ",\"metric\":";
      AppendJsonString(&out, name);
    }
    out += ",\"type\":";
    AppendJsonString(&out, model::MetricTypeName(md.type));
    out += ",\"help\":";
    AppendJsonString(&out, md.help);
    out += ",\"unit\":";
    AppendJsonString(&out, md.unit);
    out.push_back('}');
  };
  for (const auto& [pool, targets] : m.TargetsActive()) {
    for (const auto& t : targets) {
      if (limit >= 0 && n >= limit) return out + "]";
      if (!match_target.empty() && !model::MatchesAll(match_target, t->labels())) continue;
      if (metric.empty()) {
        for (const auto& md : t->metadata()) add(*t, md.metric, md.meta);
        continue;
      }
      model::Metadata md;
      if (t->GetMetadata(metric, &md)) add(*t, "", md);
    }
  }
  return out + "]";
}

}  // namespace kiln::scrape
