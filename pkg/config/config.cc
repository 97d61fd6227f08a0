#include "pkg/config/config.h"

#include <glob.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "pkg/config/yaml_codec.h"
#include "pkg/model/labels.h"

namespace kiln::config {
namespace {

using internal::LoadContext;

std::string Quote(std::string_view s) {
  std::string out;
  model::AppendGoQuoted(&out, s);
  return out;
}

Status ValidateProtocols(const std::vector<std::string>& protocols) {
  if (protocols.empty()) return Status::BadData("scrape_protocols cannot be empty");
  std::set<std::string> seen;
  for (const auto& p : protocols) {
    if (ScrapeProtocolHeader(p).empty()) {
      return Status::BadData("scrape_protocols: unknown scrape protocol " + p +
                             ", supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 "
                             "PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]");
    }
    if (!seen.insert(p).second) {
      return Status::BadData("duplicated protocol in scrape_protocols");
    }
  }
  return Status::OK();
}

relabel::NameValidation Scheme(const std::string& s) {
  return s == "legacy" ? relabel::NameValidation::kLegacy : relabel::NameValidation::kUtf8;
}

// Re-checks relabel rules under the effective name validation scheme (decoding assumed UTF-8).
Status RevalidateRelabel(std::vector<relabel::RelabelConfig>* rules, const std::string& scheme) {
  for (auto& r : *rules) {
    r.name_validation = Scheme(scheme);
    KILN_RETURN_IF_ERROR(r.Validate());
  }
  return Status::OK();
}

Status ValidateNameSchemes(const GlobalConfig& g, ScrapeConfig* c) {
  bool local_unset = c->metric_name_validation_scheme.empty();
  if (local_unset) c->metric_name_validation_scheme = g.metric_name_validation_scheme;
  if (c->metric_name_validation_scheme != "utf8" && c->metric_name_validation_scheme != "legacy") {
    return Status::BadData(
        "unknown scrape config name validation method specified, must be either '', 'legacy' "
        "or 'utf8', got " +
        c->metric_name_validation_scheme);
  }
  if (c->metric_name_escaping_scheme.empty()) {
    if (local_unset) {
      c->metric_name_escaping_scheme = g.metric_name_escaping_scheme;
    } else {
      c->metric_name_escaping_scheme =
          c->metric_name_validation_scheme == "legacy" ? "underscores" : "allow-utf-8";
    }
  }
  const std::string& e = c->metric_name_escaping_scheme;
  if (e == "allow-utf-8" && c->metric_name_validation_scheme != "utf8") {
    return Status::BadData("utf8 metric names requested but validation scheme is not set to UTF8");
  }
  if (e != "allow-utf-8" && e != "underscores" && e != "dots" && e != "values") {
    return Status::BadData(
        "unknown scrape config name escaping method specified, must be one of 'allow-utf-8', "
        "'underscores', 'dots', or 'values', got " +
        Quote(e));
  }
  KILN_RETURN_IF_ERROR(RevalidateRelabel(&c->relabel_configs, c->metric_name_validation_scheme));
  return RevalidateRelabel(&c->metric_relabel_configs, c->metric_name_validation_scheme);
}

void InheritLimits(const GlobalConfig& g, ScrapeConfig* c) {
  auto inherit = [](uint64_t* v, uint64_t global) {
    if (*v == 0) *v = global;
  };
  if (c->body_size_limit.bytes == 0) c->body_size_limit = g.body_size_limit;
  inherit(&c->sample_limit, g.sample_limit);
  inherit(&c->target_limit, g.target_limit);
  inherit(&c->label_limit, g.label_limit);
  inherit(&c->label_name_length_limit, g.label_name_length_limit);
  inherit(&c->label_value_length_limit, g.label_value_length_limit);
  inherit(&c->keep_dropped_targets, g.keep_dropped_targets);
  if (c->scrape_failure_log_file.empty()) c->scrape_failure_log_file = g.scrape_failure_log_file;
  if (!c->scrape_native_histograms) c->scrape_native_histograms = g.scrape_native_histograms;
  if (!c->extra_scrape_metrics) c->extra_scrape_metrics = g.extra_scrape_metrics;
  if (!c->convert_classic_histograms_to_nhcb) {
    c->convert_classic_histograms_to_nhcb = g.convert_classic_histograms_to_nhcb;
  }
  if (!c->always_scrape_classic_histograms) {
    c->always_scrape_classic_histograms = g.always_scrape_classic_histograms;
  }
}

// Upstream ScrapeConfig.Validate(global): fills inherited values and checks them.
Status ApplyGlobal(const GlobalConfig& g, ScrapeConfig* c) {
  const std::string job = Quote(c->job_name);
  if (c->scrape_interval.millis() == 0) c->scrape_interval = g.scrape_interval;
  if (c->scrape_timeout > c->scrape_interval) {
    return Status::BadData(
        "scrape timeout greater than scrape interval for scrape config with job name " + job);
  }
  if (c->scrape_timeout.millis() == 0)
    c->scrape_timeout = std::min(g.scrape_timeout, c->scrape_interval);
  InheritLimits(g, c);
  if (c->scrape_protocols.empty()) {
    if (!g.scrape_protocols.empty()) {
      c->scrape_protocols = g.scrape_protocols;
    } else if (c->scrape_native_histograms.value_or(false)) {
      c->scrape_protocols = DefaultProtoFirstScrapeProtocols();
    } else {
      c->scrape_protocols = DefaultScrapeProtocols();
    }
  }
  Status s = ValidateProtocols(c->scrape_protocols);
  if (!s.ok()) return Status::BadData(s.message() + " for scrape config with job name " + job);
  if (!c->fallback_scrape_protocol.empty() &&
      ScrapeProtocolHeader(c->fallback_scrape_protocol).empty()) {
    return Status::BadData("invalid fallback_scrape_protocol for scrape config with job name " +
                           job + ": unknown scrape protocol " + c->fallback_scrape_protocol);
  }
  return ValidateNameSchemes(g, c);
}

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno("open " + path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::OK();
}

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool HasGlobMeta(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

// Upstream's patRulePath: a `*` may appear only in the last path element.
bool ValidGlobPath(const std::string& p) {
  auto star = p.find('*');
  if (star == std::string::npos) return true;
  return p.find('/', star) == std::string::npos && p.find('*', star + 1) == std::string::npos;
}

Result<std::vector<std::string>> ExpandGlob(const std::string& pattern, std::string_view what) {
  if (!ValidGlobPath(pattern)) {
    return Status::BadData("invalid " + std::string(what) + " path " + Quote(pattern));
  }
  if (!HasGlobMeta(pattern)) {
    if (access(pattern.c_str(), F_OK) != 0) {
      return Status::NotFound(std::string(what) + " " + Quote(pattern) + " does not exist");
    }
    return std::vector<std::string>{pattern};
  }
  glob_t g{};
  std::vector<std::string> out;
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

YAML::Node Child(const YAML::Node& root, const char* key) {
  if (root.IsMap() && root[key]) return root[key];
  return root;
}

// The layout of a scrape_config_files entry: only scrape_configs.
struct ScrapeConfigsFile {
  static constexpr const char* kYamlType = "config.ScrapeConfigs";
  std::vector<ScrapeConfig> scrape_configs;
  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("scrape_configs", s.scrape_configs);
  }
};

Result<YAML::Node> ParseYaml(std::string_view text, const std::string& file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::BadData(file + ":" + std::to_string(e.mark.line + 1) + ": yaml: " + e.msg);
  }
}

Status MergeScrapeFile(const std::string& path, Config* cfg,
                       std::map<std::string, std::string>* jobs) {
  std::string text;
  KILN_RETURN_IF_ERROR(ReadFile(path, &text));
  KILN_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, path));
  if (!root.IsDefined() || root.IsNull()) return Status::OK();
  LoadContext ctx{path, DirOf(path)};
  ScrapeConfigsFile f;
  KILN_RETURN_IF_ERROR(internal::Decode(root, &f, ctx));
  for (auto& sc : f.scrape_configs) {
    Status s = ApplyGlobal(cfg->global, &sc);
    if (!s.ok()) return Status::BadData(sc.origin + ": " + s.message());
    auto [it, inserted] = jobs->emplace(sc.job_name, Quote(path));
    if (!inserted) {
      return Status::BadData(sc.origin + ": found multiple scrape configs with job name " +
                             Quote(sc.job_name) + ", first found in " + it->second);
    }
    cfg->scrape_configs.push_back(std::move(sc));
  }
  return Status::OK();
}

Status FinalizeScrapeConfigs(Config* cfg) {
  std::map<std::string, std::string> jobs;
  for (auto& sc : cfg->scrape_configs) {
    Status s = ApplyGlobal(cfg->global, &sc);
    if (!s.ok()) return Status::BadData(sc.origin + ": " + s.message());
    if (!jobs.emplace(sc.job_name, "main config file").second) {
      return Status::BadData(sc.origin + ": found multiple scrape configs with job name " +
                             Quote(sc.job_name));
    }
  }
  for (const auto& pattern : cfg->scrape_config_files) {
    KILN_ASSIGN_OR_RETURN(auto files, ExpandGlob(pattern, "scrape config file"));
    for (const auto& f : files) KILN_RETURN_IF_ERROR(MergeScrapeFile(f, cfg, &jobs));
  }
  return Status::OK();
}

Status FinalizeRemote(Config* cfg) {
  std::set<std::string> names;
  for (auto& rw : cfg->remote_write) {
    if (!rw.name.empty() && !names.insert(rw.name).second) {
      return Status::BadData(rw.origin + ": found multiple remote write configs with job name " +
                             Quote(rw.name));
    }
    Status s =
        RevalidateRelabel(&rw.write_relabel_configs, cfg->global.metric_name_validation_scheme);
    if (!s.ok()) return Status::BadData(rw.origin + ": " + s.message());
  }
  names.clear();
  for (const auto& rr : cfg->remote_read) {
    if (!rr.name.empty() && !names.insert(rr.name).second) {
      return Status::BadData("found multiple remote read configs with job name " + Quote(rr.name));
    }
  }
  return Status::OK();
}

bool IsShellNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's os.Expand with os.Getenv, as upstream applies to external label values: $VAR, ${VAR},
// and $$ for a literal dollar. Unset variables expand to "".
std::string ExpandEnv(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    std::string name;
    if (s[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (s[i + 1] == '{') {
      size_t close = s.find('}', i + 2);
      if (close == std::string_view::npos) break;  // bad syntax: Go drops the rest
      name = std::string(s.substr(i + 2, close - i - 2));
      i = close;
    } else {
      size_t j = i + 1;
      while (j < s.size() && IsShellNameChar(s[j])) ++j;
      if (j == i + 1) {
        out.push_back('$');
        continue;
      }
      name = std::string(s.substr(i + 1, j - i - 1));
      i = j - 1;
    }
    if (const char* v = std::getenv(name.c_str())) out += v;
  }
  return out;
}

Status FinalizeConfig(const YAML::Node& root, const LoadContext& ctx, Config* cfg) {
  for (auto& [name, value] : cfg->global.external_labels) value = ExpandEnv(value);
  Status s = cfg->global.Finalize();
  if (!s.ok()) return internal::ErrorAt(ctx, Child(root, "global"), s.message());
  for (const auto& pattern : cfg->rule_files) {
    auto files = ExpandGlob(pattern, "rule file");
    if (!files.ok())
      return internal::ErrorAt(ctx, Child(root, "rule_files"), files.status().message());
  }
  KILN_RETURN_IF_ERROR(FinalizeScrapeConfigs(cfg));
  const std::string& scheme = cfg->global.metric_name_validation_scheme;
  s = RevalidateRelabel(&cfg->alerting.alert_relabel_configs, scheme);
  for (auto& am : cfg->alerting.alertmanagers) {
    if (s.ok()) s = RevalidateRelabel(&am.relabel_configs, scheme);
    if (s.ok()) s = RevalidateRelabel(&am.alert_relabel_configs, scheme);
  }
  if (!s.ok()) return internal::ErrorAt(ctx, Child(root, "alerting"), s.message());
  KILN_RETURN_IF_ERROR(FinalizeRemote(cfg));
  s = cfg->otlp.Validate();
  if (!s.ok()) return internal::ErrorAt(ctx, Child(root, "otlp"), s.message());
  return Status::OK();
}

}  // namespace

Status GlobalConfig::Finalize() {
  if (metric_name_validation_scheme.empty()) metric_name_validation_scheme = "utf8";
  if (metric_name_validation_scheme != "utf8" && metric_name_validation_scheme != "legacy") {
    return Status::BadData(
        "unknown global name validation method specified, must be either "
        "'', 'legacy' or 'utf8', got " +
        metric_name_validation_scheme);
  }
  auto scheme = Scheme(metric_name_validation_scheme);
  for (const auto& [name, value] : external_labels) {
    if (!relabel::IsValidLabelName(name, scheme)) {
      return Status::BadData(Quote(name) + " is not a valid label name");
    }
  }
  if (scrape_interval.millis() == 0) scrape_interval = Duration::Minutes(1);
  if (scrape_timeout > scrape_interval) {
    return Status::BadData("global scrape timeout greater than scrape interval");
  }
  if (scrape_timeout.millis() == 0)
    scrape_timeout = std::min(Duration::Seconds(10), scrape_interval);
  if (evaluation_interval.millis() == 0) evaluation_interval = Duration::Minutes(1);
  if (metric_name_escaping_scheme.empty()) {
    metric_name_escaping_scheme =
        metric_name_validation_scheme == "legacy" ? "underscores" : "allow-utf-8";
  }
  if (!scrape_protocols.empty()) {
    Status s = ValidateProtocols(scrape_protocols);
    if (!s.ok()) return Status::BadData(s.message() + " for global config");
  }
  return Status::OK();
}

std::vector<std::string> Config::Warnings() const {
  std::vector<std::string> out;
  auto note = [&](const ServiceDiscoveryConfigs& sd, const std::string& owner) {
    for (const auto& u : sd.unsupported) {
      out.push_back(u.file + ":" + std::to_string(u.line) + ": " + u.kind + " in " + owner +
                    " is not supported by Kiln and discovers no targets");
    }
  };
  for (const auto& sc : scrape_configs) note(sc.sd, "job " + Quote(sc.job_name));
  for (size_t i = 0; i < alerting.alertmanagers.size(); ++i) {
    note(alerting.alertmanagers[i].sd, "alertmanager config " + std::to_string(i));
  }
  return out;
}

std::string Config::ToYaml() const {
  try {
    YAML::Emitter e;
    internal::Encode(e, *this);
    return std::string(e.c_str()) + "\n";
  } catch (const YAML::Exception& ex) {
    return "# error rendering configuration: " + ex.msg + "\n";
  }
}

Result<Config> Load(std::string_view yaml, const std::string& filename, const std::string& dir) {
  LoadContext ctx{filename, dir};
  KILN_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(yaml, filename));
  Config cfg;
  try {
    if (root.IsDefined() && !root.IsNull()) {
      KILN_RETURN_IF_ERROR(internal::Decode(root, &cfg, ctx));
    }
    KILN_RETURN_IF_ERROR(FinalizeConfig(root, ctx, &cfg));
  } catch (const YAML::Exception& e) {
    return Status::BadData(filename + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return cfg;
}

Result<Config> LoadFile(const std::string& path) {
  std::string text;
  KILN_RETURN_IF_ERROR(ReadFile(path, &text));
  return Load(text, path, DirOf(path));
}

}  // namespace kiln::config
