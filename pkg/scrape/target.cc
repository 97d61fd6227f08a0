#include "pkg/scrape/target.h"

#include <algorithm>
#include <cctype>

#include "pkg/relabel/relabel.h"
#include "pkg/util/utf8.h"

namespace kiln::scrape {
namespace {

constexpr std::string_view kParamPrefix = "__param_";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Go's url.QueryEscape for one query component.
void AppendQueryEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

// scheme://address/path?params, params being the config's merged with __param_<name> labels
// (a label replaces the first value), sorted by name as Go's url.Values.Encode does.
std::string BuildUrl(const model::Labels& l,
                     std::map<std::string, std::vector<std::string>> params) {
  for (const auto& lv : l) {
    if (!StartsWith(lv.name, kParamPrefix)) continue;
    auto& values = params[std::string(lv.name.substr(kParamPrefix.size()))];
    if (values.empty()) {
      values.emplace_back(lv.value);
    } else {
      values[0] = std::string(lv.value);
    }
  }
  std::string url = std::string(l.Get("__scheme__")) + "://" + std::string(l.Get("__address__"));
  std::string_view path = l.Get("__metrics_path__");
  if (path.empty() || path[0] != '/') url += '/';
  url += path;
  char sep = '?';
  for (const auto& [name, values] : params) {
    for (const std::string& v : values) {
      url += sep;
      sep = '&';
      AppendQueryEscaped(&url, name);
      url += '=';
      AppendQueryEscaped(&url, v);
    }
  }
  return url;
}

std::chrono::milliseconds LabelDuration(const model::Labels& l, std::string_view name) {
  auto d = config::Duration::Parse(l.Get(name));
  return std::chrono::milliseconds(d.ok() ? d->millis() : 0);
}

// FNV-1a 64, as upstream hashes targets.
uint64_t Fnv64a(std::string_view s, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

Status CheckTiming(const model::LabelsBuilder& lb) {
  std::string_view interval = lb.Get("__scrape_interval__");
  auto iv = config::Duration::Parse(interval);
  if (!iv.ok()) return iv.status().Wrap("error parsing scrape interval");
  if (iv->millis() == 0) return Status::BadData("scrape interval cannot be 0");
  std::string_view timeout = lb.Get("__scrape_timeout__");
  auto to = config::Duration::Parse(timeout);
  if (!to.ok()) return to.status().Wrap("error parsing scrape timeout");
  if (to->millis() == 0) return Status::BadData("scrape timeout cannot be 0");
  if (*to > *iv) {
    return Status::BadData("scrape timeout cannot be greater than scrape interval (\"" +
                           std::string(timeout) + "\" > \"" + std::string(interval) + "\")");
  }
  return Status::OK();
}

}  // namespace

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp:
      return "up";
    case TargetHealth::kDown:
      return "down";
    default:
      return "unknown";
  }
}

Result<PopulatedLabels> PopulateLabels(const model::Labels& group_labels,
                                       const model::Labels& target_labels,
                                       const config::ScrapeConfig& cfg) {
  model::LabelsBuilder lb(group_labels);
  for (const auto& l : target_labels) lb.Set(l.name, l.value);
  const std::pair<std::string_view, std::string> defaults[] = {
      {"job", cfg.job_name},
      {"__scrape_interval__", cfg.scrape_interval.ToString()},
      {"__scrape_timeout__", cfg.scrape_timeout.ToString()},
      {"__metrics_path__", cfg.metrics_path},
      {"__scheme__", cfg.scheme},
  };
  for (const auto& [name, value] : defaults) {
    if (lb.Get(name).empty()) lb.Set(name, value);
  }
  for (const auto& [name, values] : cfg.params) {
    std::string label = std::string(kParamPrefix) + name;
    if (!values.empty() && lb.Get(label).empty()) lb.Set(label, values[0]);
  }
  PopulatedLabels out;
  out.discovered = lb.Build();
  if (!relabel::ProcessBuilder(&lb, cfg.relabel_configs)) return out;
  std::string addr(lb.Get("__address__"));
  if (addr.empty()) return Status::BadData("no address");
  if (addr.find('/') != std::string::npos) {
    return Status::BadData("\"" + addr + "\" is not a valid hostname");
  }
  KILN_RETURN_IF_ERROR(CheckTiming(lb));
  std::vector<std::string> meta;
  lb.Range([&](std::string_view name, std::string_view) {
    if (StartsWith(name, "__meta_")) meta.emplace_back(name);
  });
  for (const std::string& name : meta) lb.Del(name);
  if (lb.Get("instance").empty()) lb.Set("instance", addr);
  model::Labels res = lb.Build();
  for (const auto& l : res) {
    if (!IsValidUtf8(l.value)) {
      return Status::BadData("invalid label value for \"" + std::string(l.name) + "\": \"" +
                             std::string(l.value) + "\"");
    }
  }
  out.labels = std::move(res);
  return out;
}

Target::Target(model::Labels labels, model::Labels discovered,
               const std::map<std::string, std::vector<std::string>>& params)
    : labels_(std::move(labels)),
      public_labels_([this] {
        std::vector<model::LabelView> keep;
        for (const auto& l : labels_) {
          if (!StartsWith(l.name, "__")) keep.push_back(l);
        }
        return model::Labels::FromSorted(keep);
      }()),
      discovered_(std::move(discovered)),
      url_(BuildUrl(labels_, params)),
      interval_(LabelDuration(labels_, "__scrape_interval__")),
      timeout_(LabelDuration(labels_, "__scrape_timeout__")),
      hash_(Fnv64a(url_, Fnv64a(labels_.ToString()))) {}

void Target::Report(int64_t start_ms, std::chrono::nanoseconds duration, const Status& err) {
  std::lock_guard<std::mutex> lock(mu_);
  health_ = err.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  last_error_ = err.ok() ? std::string() : err.message();
  last_scrape_ms_ = start_ms;
  last_duration_s_ = std::chrono::duration<double>(duration).count();
}

TargetHealth Target::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

std::string Target::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

int64_t Target::last_scrape_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_scrape_ms_;
}

double Target::last_scrape_duration_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_duration_s_;
}

std::vector<MetricMetadata> Target::metadata() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metadata_;
}

bool Target::GetMetadata(std::string_view metric, model::Metadata* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it =
      std::lower_bound(metadata_.begin(), metadata_.end(), metric,
                       [](const MetricMetadata& m, std::string_view v) { return m.metric < v; });
  if (it == metadata_.end() || it->metric != metric) return false;
  *out = it->meta;
  return true;
}

void Target::SetMetadata(std::vector<MetricMetadata> md) {
  std::lock_guard<std::mutex> lock(mu_);
  metadata_ = std::move(md);
}

}  // namespace kiln::scrape
