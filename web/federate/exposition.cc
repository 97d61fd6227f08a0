#include "web/federate/exposition.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "pkg/util/float_format.h"

namespace kiln::web::federate {

namespace {

constexpr std::string_view kTextType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kProtoDelimType =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
    "encoding=delimited";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct MediaRange {
  std::string type;  // "type/subtype", lower case
  std::map<std::string, std::string> params;
  double q = 1;
};

// Accept: comma-separated media ranges with ;-separated params (goautoneg's parsing).
std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view part = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    MediaRange r;
    size_t semi = part.find(';');
    r.type = Lower(Trim(part.substr(0, semi)));
    while (semi != std::string_view::npos) {
      part = part.substr(semi + 1);
      semi = part.find(';');
      std::string_view kv = part.substr(0, semi);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key = Lower(Trim(kv.substr(0, eq)));
      std::string value(Trim(kv.substr(eq + 1)));
      if (key == "q") {
        r.q = std::atof(value.c_str());
      } else {
        r.params[key] = value;
      }
    }
    if (!r.type.empty()) out.push_back(std::move(r));
  }
  // Highest quality first; equal qualities keep their order.
  std::stable_sort(out.begin(), out.end(),
                   [](const MediaRange& a, const MediaRange& b) { return a.q > b.q; });
  return out;
}

// The labels written for one series, in upstream's order.
std::vector<std::pair<std::string_view, std::string_view>> OutputLabels(
    const model::Labels& labels, const std::map<std::string, std::string>& external) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const model::LabelView& l : labels) {
    if (l.value.empty() || l.name == model::kMetricName) continue;
    out.emplace_back(l.name, l.value);
  }
  for (const auto& [name, value] : external) {
    if (labels.Get(name).empty()) out.emplace_back(name, value);
  }
  return out;
}

// ---- text 0.0.4 ----

void AppendEscaped(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

// expfmt writes 0 for -0 (it special-cases 0, 1 and -1), otherwise Go's %g.
std::string FormatValue(double v) { return v == 0 ? "0" : FormatFloatG(v); }

void AppendTextSample(std::string* out, std::string_view name, const FederatedSample& s,
                      const std::map<std::string, std::string>& external) {
  *out += name;
  bool first = true;
  for (const auto& [ln, lv] : OutputLabels(s.labels, external)) {
    *out += first ? '{' : ',';
    first = false;
    *out += ln;
    *out += "=\"";
    AppendEscaped(out, lv);
    *out += '"';
  }
  if (!first) *out += '}';
  *out += ' ';
  *out += FormatValue(s.v);
  *out += ' ';
  *out += std::to_string(s.t);
  *out += '\n';
}

// ---- protobuf (client_model's metrics.proto, proto2 as upstream marshals it) ----

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytesField(std::string* out, int field, std::string_view bytes) {
  PutVarint(out, static_cast<uint64_t>(field) << 3 | 2);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

// Metric{label=1, untyped=5, timestamp_ms=6}, fields in number order as Go's marshaller
// writes them; Untyped.value is always present (proto2 optional, set by upstream).
std::string ProtoMetric(const FederatedSample& s,
                        const std::map<std::string, std::string>& external) {
  std::string m, pair;
  for (const auto& [ln, lv] : OutputLabels(s.labels, external)) {
    pair.clear();
    PutBytesField(&pair, 1, ln);
    PutBytesField(&pair, 2, lv);
    PutBytesField(&m, 1, pair);
  }
  char untyped[9];
  untyped[0] = 0x09;                  // field 1, fixed64
  std::memcpy(untyped + 1, &s.v, 8);  // little-endian host, as the wire format
  PutBytesField(&m, 5, std::string_view(untyped, sizeof untyped));
  PutVarint(&m, 6 << 3 | 0);
  PutVarint(&m, static_cast<uint64_t>(s.t));
  return m;
}

void AppendProtoFamily(std::string* out, std::string_view name,
                       const std::vector<std::string>& metrics) {
  std::string fam;
  PutBytesField(&fam, 1, name);
  PutVarint(&fam, 3 << 3 | 0);
  PutVarint(&fam, 3);  // UNTYPED
  for (const std::string& m : metrics) PutBytesField(&fam, 4, m);
  PutVarint(out, fam.size());
  out->append(fam);
}

}  // namespace

Format NegotiateFormat(std::string_view accept) {
  for (const MediaRange& r : ParseAccept(accept)) {
    auto param = [&r](const char* k) {
      auto it = r.params.find(k);
      return it == r.params.end() ? std::string() : it->second;
    };
    if (r.type == "application/vnd.google.protobuf" &&
        param("proto") == "io.prometheus.client.MetricFamily") {
      if (param("encoding") == "delimited") return Format::kProtoDelimited;
      continue;
    }
    if (r.type == "text/plain" && (param("version") == "0.0.4" || param("version").empty())) {
      return Format::kText;
    }
  }
  return Format::kText;
}

std::string_view ContentType(Format format) {
  return format == Format::kProtoDelimited ? kProtoDelimType : kTextType;
}

std::string EncodeFamilies(Format format, const std::vector<FederatedSample>& samples,
                           const std::map<std::string, std::string>& external_labels) {
  std::string out;
  std::string_view family;
  std::vector<std::string> metrics;  // protobuf: the current family's encoded metrics
  for (const FederatedSample& s : samples) {
    const std::string_view name = s.labels.Get(model::kMetricName);
    if (name.empty()) continue;  // nameless series cannot be exposed (upstream logs and skips)
    if (name != family) {
      if (format == Format::kText) {
        out += "# TYPE ";
        out += name;
        out += " untyped\n";
      } else if (!metrics.empty()) {
        AppendProtoFamily(&out, family, metrics);
        metrics.clear();
      }
      family = name;
    }
    if (format == Format::kText) {
      AppendTextSample(&out, name, s, external_labels);
    } else {
      metrics.push_back(ProtoMetric(s, external_labels));
    }
  }
  if (!metrics.empty()) AppendProtoFamily(&out, family, metrics);
  return out;
}

}  // namespace kiln::web::federate
