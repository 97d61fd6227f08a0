#include "pkg/textparse/prom_parser.h"

#include <charconv>

namespace kiln::textparse {

using internal::ParseGoFloat;

Entry PromParser::Next() {
  if (done_ == Entry::kEOF || done_ == Entry::kInvalid) return done_;
  hint_matched_ = false;
  for (;;) {
    s_.SkipBlanks();
    if (s_.AtEnd()) {
      done_ = Entry::kEOF;
      return done_;
    }
    if (s_.Peek() == '\n') {
      s_.EndLine();
      continue;
    }
    if (s_.Peek() == '#') return ParseComment();
    return ParseSeries();
  }
}

Entry PromParser::ParseComment() {
  std::string_view line = s_.LineRest();
  s_.Advance();  // '#'
  s_.SkipBlanks();
  std::string_view rest = s_.LineRest();
  for (std::string_view kw : {"HELP", "TYPE"}) {
    if (rest.substr(0, 4) == kw && (rest.size() == 4 || rest[4] == ' ' || rest[4] == '\t')) {
      s_.Advance(4);
      return ParseMeta(kw);
    }
  }
  comment_ = line;
  s_.Advance(rest.size());
  s_.EndLine();
  return Entry::kComment;
}

Entry PromParser::ParseMeta(std::string_view keyword) {
  s_.SkipBlanks();
  bool escaped = false;
  if (s_.Peek() == '"') {
    if (!s_.Quoted(&meta_name_, &escaped)) return Invalid();
  } else {
    meta_name_ = s_.Name(true);
  }
  if (meta_name_.empty()) {
    s_.Expected("metric name after " + std::string(keyword));
    return Invalid();
  }
  bool blank = s_.SkipBlanks();
  if (!blank && !s_.AtLineEnd()) {
    s_.Expected("whitespace after metric name");
    return Invalid();
  }
  std::string_view text = s_.LineRest();
  s_.Advance(text.size());
  if (keyword == "HELP") {
    // Text-format HELP escapes only \\ and \n; Unescape also maps \" which is harmless here.
    internal::Unescape(text, &help_);
    s_.EndLine();
    return Entry::kHelp;
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  static constexpr std::pair<std::string_view, model::MetricType> kTypes[] = {
      {"counter", model::MetricType::kCounter},     {"gauge", model::MetricType::kGauge},
      {"histogram", model::MetricType::kHistogram}, {"summary", model::MetricType::kSummary},
      {"untyped", model::MetricType::kUnknown},
  };
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

Entry PromParser::ParseSeries() {
  // The hint is a series text this format accepted before. The same bytes followed by a
  // blank scan to the same series, so only the comparison is needed (a scrape's known
  // series skip their label syntax, as the upstream scrape loop skips label parsing).
  if (!hint_.empty() && s_.SkipSeries(hint_)) {
    hint_matched_ = true;
  } else if (!s_.SeriesId()) {
    return Invalid();
  }
  hint_ = {};
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
  s_.SkipBlanks();
  if (!s_.AtLineEnd()) {
    tok = s_.Token();
    int64_t ts = 0;
    auto [end, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), ts);
    if (ec != std::errc() || end != tok.data() + tok.size()) {
      s_.Fail("invalid timestamp \"" + std::string(tok) + "\"");
      return Invalid();
    }
    ts_ = ts;
    s_.SkipBlanks();
    if (!s_.AtLineEnd()) {
      s_.Expected("next entry after timestamp");
      return Invalid();
    }
  }
  s_.EndLine();
  return Entry::kSeries;
}

std::string_view PromParser::Series(double* value, std::optional<model::Timestamp>* ts) const {
  *value = value_;
  *ts = ts_;
  return s_.series;
}

void PromParser::Labels(model::LabelsBuilder* builder) const {
  const internal::TextScanner* scanned = &s_;
  internal::TextScanner rescan(s_.series);
  if (hint_matched_) {
    // Scanned before, in an earlier parse, so it scans again without error.
    rescan.SeriesId();
    scanned = &rescan;
  }
  auto type = scanned->name.starts_with(family_) ? family_type_ : model::MetricType::kUnknown;
  internal::BuildLabels(scanned->name, scanned->name_escaped, scanned->labels, type, builder);
}

std::pair<std::string_view, std::string_view> PromParser::Help() const {
  return {meta_name_, help_};
}

std::pair<std::string_view, model::MetricType> PromParser::Type() const {
  return {meta_name_, type_};
}

}  // namespace kiln::textparse
