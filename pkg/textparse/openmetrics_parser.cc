#include "pkg/textparse/openmetrics_parser.h"

#include <cmath>

namespace kiln::textparse {
namespace {

using internal::GoFloatToInt64;
using internal::ParseGoFloat;

constexpr std::pair<std::string_view, model::MetricType> kTypes[] = {
    {"counter", model::MetricType::kCounter},
    {"gauge", model::MetricType::kGauge},
    {"histogram", model::MetricType::kHistogram},
    {"gaugehistogram", model::MetricType::kGaugeHistogram},
    {"summary", model::MetricType::kSummary},
    {"info", model::MetricType::kInfo},
    {"stateset", model::MetricType::kStateset},
    {"unknown", model::MetricType::kUnknown},
};

bool HasCreated(model::MetricType t) {
  return t == model::MetricType::kCounter || t == model::MetricType::kSummary ||
         t == model::MetricType::kHistogram || t == model::MetricType::kGaugeHistogram;
}

}  // namespace

Entry OpenMetricsParser::Next() {
  for (;;) {
    Entry e = NextEntry();
    if (e != Entry::kSeries || !options_.skip_created_series || !IsCreatedSeries()) return e;
  }
}

Entry OpenMetricsParser::NextEntry() {
  if (done_ == Entry::kEOF || done_ == Entry::kInvalid) return done_;
  if (s_.AtEnd()) {
    s_.Fail("data does not end with # EOF");
    return Invalid();
  }
  if (s_.Peek() == '\n') {
    s_.Fail("unexpected empty line");
    return Invalid();
  }
  if (s_.Peek() == '#') return ParseDescriptor();
  return ParseSeries();
}

Entry OpenMetricsParser::ParseDescriptor() {
  std::string_view line = s_.LineRest();
  if (line == "# EOF") {
    s_.Advance(line.size());
    s_.EndLine();
    if (!s_.AtEnd()) {
      s_.Fail("unexpected data after # EOF");
      return Invalid();
    }
    done_ = Entry::kEOF;
    return done_;
  }
  std::string_view kw = line.substr(0, 7);
  if (kw != "# HELP " && kw != "# TYPE " && kw != "# UNIT ") {
    s_.Expected("a valid start token");
    return Invalid();
  }
  s_.Advance(7);
  bool escaped = false;
  if (s_.Peek() == '"') {
    if (!s_.Quoted(&meta_name_, &escaped)) return Invalid();
  } else {
    meta_name_ = s_.Name(true);
  }
  if (meta_name_.empty()) {
    s_.Expected("metric name");
    return Invalid();
  }
  std::string_view text;
  if (s_.Peek() == ' ') {
    s_.Advance();
    text = s_.LineRest();
  } else if (!s_.AtLineEnd()) {
    s_.Expected("whitespace after metric name");
    return Invalid();
  }
  s_.Advance(text.size());
  if (kw == "# HELP ") {
    internal::Unescape(text, &meta_text_);
    s_.EndLine();
    return Entry::kHelp;
  }
  if (kw == "# UNIT ") {
    meta_text_ = std::string(text);
    s_.EndLine();
    return Entry::kUnit;
  }
  for (const auto& [name, type] : kTypes) {
    if (text == name) {
      type_ = family_type_ = type;
      family_ = meta_name_;
      s_.EndLine();
      return Entry::kType;
    }
  }
  s_.Fail("invalid metric type \"" + std::string(text) + "\"");
  return Invalid();
}

bool OpenMetricsParser::ParseTimestamp(std::string_view tok, model::Timestamp* out) {
  double secs;
  if (!ParseGoFloat(tok, &secs) || std::isnan(secs) || std::isinf(secs)) {
    s_.Fail("invalid timestamp \"" + std::string(tok) + "\"");
    return false;
  }
  *out = GoFloatToInt64(secs * 1000);
  return true;
}

bool OpenMetricsParser::ParseExemplar() {
  s_.Advance();  // '#'
  if (!s_.SkipBlanks() || s_.Peek() != '{') {
    s_.Expected("label set for exemplar");
    return false;
  }
  exemplar_labels_.clear();
  if (!s_.LabelSet(&exemplar_labels_, nullptr, nullptr)) return false;
  if (!s_.SkipBlanks()) {
    s_.Expected("value after exemplar labels");
    return false;
  }
  std::string_view tok = s_.Token();
  if (!ParseGoFloat(tok, &exemplar_value_)) {
    s_.Fail("strconv.ParseFloat: parsing \"" + std::string(tok) + "\": invalid syntax");
    return false;
  }
  exemplar_ts_.reset();
  if (s_.SkipBlanks() && !s_.AtLineEnd()) {
    model::Timestamp ts;
    if (!ParseTimestamp(s_.Token(), &ts)) return false;
    exemplar_ts_ = ts;
  }
  has_exemplar_ = true;
  return true;
}

Entry OpenMetricsParser::ParseSeries() {
  if (!s_.SeriesId()) return Invalid();
  if (!s_.SkipBlanks() || s_.AtLineEnd()) {
    s_.Expected("value after metric");
    return Invalid();
  }
  std::string_view tok = s_.Token();
  if (!ParseGoFloat(tok, &value_)) {
    s_.Fail("strconv.ParseFloat: parsing \"" + std::string(tok) + "\": invalid syntax");
    return Invalid();
  }
  ts_.reset();
  has_exemplar_ = false;
  s_.SkipBlanks();
  if (!s_.AtLineEnd() && s_.Peek() != '#') {
    model::Timestamp ts;
    if (!ParseTimestamp(s_.Token(), &ts)) return Invalid();
    ts_ = ts;
    s_.SkipBlanks();
  }
  if (s_.Peek() == '#' && !ParseExemplar()) return Invalid();
  s_.SkipBlanks();
  if (!s_.AtLineEnd()) {
    s_.Expected("next entry after timestamp");
    return Invalid();
  }
  s_.EndLine();
  return Entry::kSeries;
}

model::MetricType OpenMetricsParser::SeriesFamilyType() const {
  return s_.name.starts_with(family_) ? family_type_ : model::MetricType::kUnknown;
}

bool OpenMetricsParser::IsCreatedSeries() const {
  return HasCreated(family_type_) && s_.name.size() == family_.size() + 8 &&
         s_.name.starts_with(family_) && s_.name.ends_with("_created");
}

std::optional<model::Timestamp> OpenMetricsParser::CreatedTimestamp() {
  if (!HasCreated(family_type_) || IsCreatedSeries() || !s_.name.starts_with(family_)) {
    return std::nullopt;
  }
  // Look ahead within the family for `<family>_created` with the same labels (ignoring the
  // bucket / quantile label). Costs a scan of the rest of the family; callers use it on
  // cache misses only.
  model::LabelsBuilder want_b;
  Labels(&want_b);
  model::Labels want = want_b.Build().Without({"__name__", "le", "quantile"});
  OpenMetricsParser ahead(s_.rest());
  ahead.family_ = family_;
  ahead.family_type_ = family_type_;
  model::LabelsBuilder b;
  while (ahead.NextEntry() == Entry::kSeries) {
    if (!ahead.IsCreatedSeries()) continue;
    ahead.Labels(&b);
    if (b.Build().Without({"__name__"}) == want) {
      return GoFloatToInt64(ahead.value_ * 1000);
    }
  }
  return std::nullopt;
}

std::string_view OpenMetricsParser::Series(double* value,
                                           std::optional<model::Timestamp>* ts) const {
  *value = value_;
  *ts = ts_;
  return s_.series;
}

void OpenMetricsParser::Labels(model::LabelsBuilder* builder) const {
  internal::BuildLabels(s_.name, s_.name_escaped, s_.labels, SeriesFamilyType(), builder);
}

bool OpenMetricsParser::GetExemplar(Exemplar* e) {
  if (!has_exemplar_) return false;
  model::LabelsBuilder b;
  internal::BuildLabels("", false, exemplar_labels_, model::MetricType::kUnknown, &b);
  b.Del(model::kMetricName);
  e->labels = b.Build();
  e->value = exemplar_value_;
  e->timestamp = exemplar_ts_;
  return true;
}

std::pair<std::string_view, std::string_view> OpenMetricsParser::Help() const {
  return {meta_name_, meta_text_};
}

std::pair<std::string_view, model::MetricType> OpenMetricsParser::Type() const {
  return {meta_name_, type_};
}

std::pair<std::string_view, std::string_view> OpenMetricsParser::Unit() const {
  return {meta_name_, meta_text_};
}

}  // namespace kiln::textparse
