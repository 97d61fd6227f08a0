#include "pkg/config/yaml_codec.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace kiln::config::internal {
namespace {

bool IsQuoted(const YAML::Node& n) { return n.Tag() == "!"; }

// YAML 1.1 booleans, as go-yaml v2 resolves them.
std::optional<bool> ParseBool(const std::string& s) {
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                      "on",   "On",   "ON",   "y",   "Y"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No", "NO",
                                       "off",   "Off",   "OFF",   "n",  "N"};
  for (const char* t : kTrue) {
    if (s == t) return true;
  }
  for (const char* f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseFloat(const std::string& s, double* out) {
  if (s == ".inf" || s == ".Inf" || s == "+.inf") {
    *out = INFINITY;
    return true;
  }
  if (s == "-.inf" || s == "-.Inf") {
    *out = -INFINITY;
    return true;
  }
  if (s == ".nan" || s == ".NaN") {
    *out = NAN;
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end != '\0') return false;
  *out = v;
  return true;
}

Status TypeError(const YAML::Node& n, std::string_view into, const LoadContext& ctx) {
  return ErrorAt(ctx, n, "cannot unmarshal " + GoTag(n) + " into " + std::string(into));
}

// Upstream's relabel.Config as it appears in YAML, before compiling and validating.
struct RelabelYaml {
  static constexpr const char* kYamlType = "relabel.Config";
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = "(.*)";
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  std::string action = "replace";

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("source_labels", s.source_labels);
    v("separator", s.separator);
    v("regex", s.regex);
    v("modulus", s.modulus);
    v("target_label", s.target_label);
    v("replacement", s.replacement);
    v("action", s.action);
  }
};

}  // namespace

Status ErrorAt(const LoadContext& ctx, const YAML::Node& n, std::string_view msg) {
  return Status::BadData(Origin(ctx, n) + ": " + std::string(msg));
}

std::string Origin(const LoadContext& ctx, const YAML::Node& n) {
  return ctx.file + ":" + std::to_string(n.Mark().line + 1);
}

std::string GoTag(const YAML::Node& n) {
  if (n.IsSequence()) return "!!seq";
  if (n.IsMap()) return "!!map";
  if (n.IsNull()) return "!!null";
  const std::string& s = n.Scalar();
  std::string tag = "!!str";
  int64_t i;
  double d;
  if (!IsQuoted(n)) {
    if (ParseBool(s)) {
      tag = "!!bool";
    } else if (ParseInt(s, &i)) {
      tag = "!!int";
    } else if (ParseFloat(s, &d)) {
      tag = "!!float";
    }
  }
  return tag + " `" + s + "`";
}

std::string JoinDir(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

Status Decode(const YAML::Node& n, std::string* out, const LoadContext& ctx) {
  if (!n.IsScalar()) return TypeError(n, "string", ctx);
  *out = n.Scalar();
  return Status::OK();
}

Status Decode(const YAML::Node& n, bool* out, const LoadContext& ctx) {
  std::optional<bool> b;
  if (n.IsScalar() && !IsQuoted(n)) b = ParseBool(n.Scalar());
  if (!b) return TypeError(n, "bool", ctx);
  *out = *b;
  return Status::OK();
}

Status Decode(const YAML::Node& n, int64_t* out, const LoadContext& ctx) {
  if (!n.IsScalar() || IsQuoted(n) || !ParseInt(n.Scalar(), out)) {
    return TypeError(n, "int", ctx);
  }
  return Status::OK();
}

Status Decode(const YAML::Node& n, uint64_t* out, const LoadContext& ctx) {
  int64_t v;
  if (!n.IsScalar() || IsQuoted(n) || !ParseInt(n.Scalar(), &v) || v < 0) {
    return TypeError(n, "uint", ctx);
  }
  *out = static_cast<uint64_t>(v);
  return Status::OK();
}

Status Decode(const YAML::Node& n, double* out, const LoadContext& ctx) {
  if (!n.IsScalar() || IsQuoted(n) || !ParseFloat(n.Scalar(), out)) {
    return TypeError(n, "float64", ctx);
  }
  return Status::OK();
}

Status Decode(const YAML::Node& n, Duration* out, const LoadContext& ctx) {
  if (!n.IsScalar()) return TypeError(n, "model.Duration", ctx);
  auto d = Duration::Parse(n.Scalar());
  if (!d.ok()) return ErrorAt(ctx, n, d.status().message());
  *out = *d;
  return Status::OK();
}

Status Decode(const YAML::Node& n, ByteSize* out, const LoadContext& ctx) {
  if (!n.IsScalar()) return TypeError(n, "units.Base2Bytes", ctx);
  auto b = ByteSize::Parse(n.Scalar());
  if (!b.ok()) return ErrorAt(ctx, n, b.status().message());
  *out = *b;
  return Status::OK();
}

Status Decode(const YAML::Node& n, relabel::RelabelConfig* out, const LoadContext& ctx) {
  RelabelYaml y;
  KILN_RETURN_IF_ERROR(Decode(n, &y, ctx));
  auto re = relabel::Regex::Compile(y.regex);
  if (!re.ok()) return ErrorAt(ctx, n["regex"] ? n["regex"] : n, re.status().message());
  auto action = relabel::ParseAction(y.action);
  if (!action.ok()) return ErrorAt(ctx, n["action"], action.status().message());
  out->source_labels = std::move(y.source_labels);
  out->separator = std::move(y.separator);
  out->regex = std::move(re).value();
  out->modulus = y.modulus;
  out->target_label = std::move(y.target_label);
  out->replacement = std::move(y.replacement);
  out->action = *action;
  Status s = out->Validate();
  if (!s.ok()) return ErrorAt(ctx, n, s.message());
  return Status::OK();
}

YAML::Node Reader::Lookup(const char* key) {
  known_.insert(key);
  if (!status_.ok()) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node n = node_[key];
  if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
  return n;
}

void Reader::File(const char* key, std::string& field) {
  (*this)(key, field);
  if (status_.ok()) field = JoinDir(ctx_.dir, field);
}

void Reader::FileList(const char* key, std::vector<std::string>& field) {
  (*this)(key, field);
  if (!status_.ok()) return;
  for (auto& f : field) f = JoinDir(ctx_.dir, f);
}

void Reader::UnsupportedSD(std::vector<UnsupportedSDConfig>& out) {
  for (const std::string& kind : UnsupportedSDKinds()) known_.insert(kind);
  if (!status_.ok()) return;
  for (const auto& kv : node_) {
    const std::string& key = kv.first.Scalar();
    const auto& kinds = UnsupportedSDKinds();
    if (kv.second.IsNull() || std::find(kinds.begin(), kinds.end(), key) == kinds.end()) continue;
    if (!kv.second.IsSequence()) {
      status_ = TypeError(kv.second, "discovery.Configs", ctx_);
      return;
    }
    out.push_back({key, ctx_.file, kv.first.Mark().line + 1, YAML::Dump(kv.second)});
  }
}

Status Reader::Finish() const {
  if (!status_.ok()) return status_;
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : node_) {
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      return ErrorAt(ctx_, kv.first, "field " + key + " already set in type " + type_);
    }
    if (!known_.contains(key)) {
      return ErrorAt(ctx_, kv.first, "field " + key + " not found in type " + type_);
    }
  }
  return Status::OK();
}

bool AlwaysPrinted(std::string_view key) {
  return key == "honor_timestamps" || key == "track_timestamps_staleness" ||
         key == "enable_compression" || key == "follow_redirects" || key == "enable_http2" ||
         key == "send" || key == "filter_external_labels";
}

void Encode(YAML::Emitter& e, const std::string& v) { e << v; }
void Encode(YAML::Emitter& e, bool v) { e << (v ? "true" : "false"); }
void Encode(YAML::Emitter& e, int64_t v) { e << v; }
void Encode(YAML::Emitter& e, uint64_t v) { e << v; }
void Encode(YAML::Emitter& e, double v) { e << v; }
void Encode(YAML::Emitter& e, const Duration& v) { e << v.ToString(); }
void Encode(YAML::Emitter& e, const ByteSize& v) { e << v.ToString(); }

void Encode(YAML::Emitter& e, const relabel::RelabelConfig& v) {
  RelabelYaml y;
  y.source_labels = v.source_labels;
  y.separator = v.separator;
  y.regex = v.regex.pattern();
  y.modulus = v.modulus;
  y.target_label = v.target_label;
  y.replacement = v.replacement;
  y.action = std::string(relabel::ActionName(v.action));
  Encode(e, y);
}

void Writer::Secret(const char* key, const std::string& field) {
  if (field.empty()) return;
  e_ << YAML::Key << key << YAML::Value << "<secret>";
}

void Writer::SecretList(const char* key, const std::vector<std::string>& field) {
  if (field.empty()) return;
  e_ << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (size_t i = 0; i < field.size(); ++i) e_ << "<secret>";
  e_ << YAML::EndSeq;
}

void Writer::UnsupportedSD(const std::vector<UnsupportedSDConfig>& sds) {
  for (const auto& sd : sds) e_ << YAML::Key << sd.kind << YAML::Value << YAML::Load(sd.yaml);
}

}  // namespace kiln::config::internal
