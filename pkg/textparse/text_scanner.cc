#include "pkg/textparse/text_scanner.h"

#include <strings.h>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "pkg/util/utf8.h"

namespace kiln::textparse::internal {
namespace {

bool IsNameStart(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool IsNameChar(char c, bool colon) { return IsNameStart(c, colon) || (c >= '0' && c <= '9'); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

namespace {

// Clinger's fast path for the shapes exporters write most ([+-]digits[.digits], e.g. "42",
// "-3.25", "0.001"): with the digits as an integer m <= 2^53 and k <= 22 fraction digits,
// m and 10^k are exact doubles, so m / 10^k is a single correctly rounded IEEE division:
// exactly what strtod and from_chars return. Anything else returns false.
bool ParseSimpleDecimal(std::string_view s, double* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* p = s.data();
  const char* const end = p + s.size();
  bool neg = false;
  if (p != end && (*p == '-' || *p == '+')) neg = *p++ == '-';
  uint64_t m = 0;
  int digits = 0;
  int frac = -1;  // fraction digits; -1 until the point
  for (; p != end; ++p) {
    const unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d <= 9) {
      // 19 digits always fit in a uint64_t; longer ones take the general path.
      if (++digits > 19) return false;
      m = m * 10 + d;
      if (frac >= 0) ++frac;
    } else if (*p == '.' && frac < 0) {
      frac = 0;
    } else {
      return false;
    }
  }
  if (digits == 0 || m > (uint64_t{1} << 53) || frac > 22) return false;
  double v = static_cast<double>(m);
  if (frac > 0) v /= kPow10[frac];
  *out = neg ? -v : v;
  return true;
}

}  // namespace

bool ParseGoFloat(std::string_view s, double* out) {
  if (ParseSimpleDecimal(s, out)) return true;
  if (s.empty() || s.find_first_of("pP_xX") != std::string_view::npos) return false;
  bool neg = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (EqualsIgnoreCase(body, "nan")) {
    *out = std::nan("");
    return true;
  }
  if (body.empty() || body[0] == '+' || body[0] == '-') return false;
  double v = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc() || end != body.data() + body.size()) return false;
  *out = neg ? -v : v;
  return true;
}

std::string FormatOpenMetricsFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, sci.ptr - buf);
  int exp = std::atoi(std::string(s.substr(s.find('e') + 1)).c_str());
  std::string out;
  if (exp < -4 || exp >= 6) {
    out = std::string(s);  // Go's %e: d.ddde±XX, same shape as to_chars
  } else {
    auto fix = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out.assign(buf, fix.ptr - buf);
  }
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

int64_t GoFloatToInt64(double f) {
  // -2^63 and 2^63 are exact doubles; everything in [-2^63, 2^63) truncates into range.
  constexpr double kLimit = 9223372036854775808.0;
  if (!(f >= -kLimit && f < kLimit)) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(f);
}

void Unescape(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      char n = in[i + 1];
      if (n == '\\' || n == '"') {
        out->push_back(n);
        ++i;
        continue;
      }
      if (n == 'n') {
        out->push_back('\n');
        ++i;
        continue;
      }
    }
    out->push_back(in[i]);
  }
}

bool TextScanner::SkipBlanks() {
  size_t start = pos_;
  while (pos_ < buf_.size() && (buf_[pos_] == ' ' || buf_[pos_] == '\t')) ++pos_;
  return pos_ > start;
}

void TextScanner::EndLine() {
  if (pos_ < buf_.size()) {
    ++pos_;
    ++line_;
  }
}

std::string_view TextScanner::LineRest() const {
  size_t nl = buf_.find('\n', pos_);
  if (nl == std::string_view::npos) nl = buf_.size();
  return buf_.substr(pos_, nl - pos_);
}

std::string_view TextScanner::Token() {
  size_t start = pos_;
  while (pos_ < buf_.size() && buf_[pos_] != ' ' && buf_[pos_] != '\t' && buf_[pos_] != '\n') {
    ++pos_;
  }
  return buf_.substr(start, pos_ - start);
}

std::string_view TextScanner::Name(bool colon) {
  size_t start = pos_;
  if (pos_ < buf_.size() && IsNameStart(buf_[pos_], colon)) {
    ++pos_;
    while (pos_ < buf_.size() && IsNameChar(buf_[pos_], colon)) ++pos_;
  }
  return buf_.substr(start, pos_ - start);
}

bool TextScanner::Quoted(std::string_view* inner, bool* escaped) {
  size_t start = ++pos_;  // past the opening quote
  *escaped = false;
  while (pos_ < buf_.size()) {
    char c = buf_[pos_];
    if (c == '\n') break;
    if (c == '\\') {
      *escaped = true;
      pos_ += 2;
      continue;
    }
    if (c == '"') {
      *inner = buf_.substr(start, pos_ - start);
      ++pos_;
      return true;
    }
    ++pos_;
  }
  pos_ = std::min(pos_, buf_.size());
  Fail("unterminated quoted string");
  return false;
}

bool TextScanner::LabelValue(LabelSpan* l) {
  SkipBlanks();
  if (Peek() != '=') {
    Expected("equal");
    return false;
  }
  ++pos_;
  SkipBlanks();
  if (Peek() != '"') {
    Expected("label value");
    return false;
  }
  return Quoted(&l->value, &l->value_escaped);
}

bool TextScanner::LabelSet(std::vector<LabelSpan>* out, std::string_view* metric,
                           bool* metric_escaped) {
  ++pos_;  // '{'
  for (;;) {
    SkipBlanks();
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    LabelSpan l;
    if (Peek() == '"') {
      if (!Quoted(&l.name, &l.name_escaped)) return false;
      SkipBlanks();
      // A leading quoted string without `=` is the metric name: {"my.metric", a="b"}.
      if (metric != nullptr && metric->empty() && (Peek() == ',' || Peek() == '}')) {
        *metric = l.name;
        *metric_escaped = l.name_escaped;
        if (Peek() == ',') ++pos_;
        continue;
      }
    } else if ((l.name = Name(false)).empty()) {
      Expected("label name");
      return false;
    }
    if (!LabelValue(&l)) return false;
    // Checked here, as upstream's parsers do right after lexing the value, so the scrape
    // fails with their message (escapes are ASCII: the raw bytes decide).
    if (!IsValidUtf8(l.value)) {
      Fail("invalid UTF-8 label value");
      return false;
    }
    out->push_back(l);
    SkipBlanks();
    if (Peek() == ',') {
      ++pos_;
    } else if (Peek() != '}') {
      Expected("comma or closing brace");
      return false;
    }
  }
}

bool TextScanner::SeriesId() {
  size_t start = pos_;
  labels.clear();
  name = {};
  name_escaped = false;
  if (Peek() != '{') {
    name = Name(true);
    if (name.empty()) {
      Expected("metric name");
      return false;
    }
  }
  if (Peek() == '{' && !LabelSet(&labels, &name, &name_escaped)) return false;
  if (name.empty()) {
    std::string msg = "metric name not set while parsing: ";
    model::AppendGoQuoted(&msg, buf_.substr(start, pos_ - start));
    Fail(std::move(msg));
    return false;
  }
  series = buf_.substr(start, pos_ - start);
  return true;
}

bool TextScanner::SkipSeries(std::string_view text) {
  const size_t end = pos_ + text.size();
  if (end >= buf_.size() || (buf_[end] != ' ' && buf_[end] != '\t') ||
      std::memcmp(buf_.data() + pos_, text.data(), text.size()) != 0) {
    return false;
  }
  labels.clear();
  name = {};
  name_escaped = false;
  series = buf_.substr(pos_, text.size());
  pos_ = end;
  return true;
}

void TextScanner::Expected(std::string_view what) {
  std::string got;
  model::AppendGoQuoted(&got, AtEnd() ? std::string_view("EOF") : LineRest().substr(0, 32));
  Fail("expected " + std::string(what) + ", got " + got);
}

void TextScanner::Fail(std::string msg) {
  if (error_.ok()) error_ = Status::BadData("line " + std::to_string(line_) + ": " + msg);
}

void BuildLabels(std::string_view name, bool name_escaped, const std::vector<LabelSpan>& labels,
                 model::MetricType family_type, model::LabelsBuilder* b) {
  b->Reset(model::Labels());
  std::string tmp;
  std::string tmp_name;
  if (name_escaped) {
    Unescape(name, &tmp);
    b->Set(model::kMetricName, tmp);
  } else {
    b->Set(model::kMetricName, name);
  }
  const bool histogram = family_type == model::MetricType::kHistogram ||
                         family_type == model::MetricType::kGaugeHistogram;
  const bool summary = family_type == model::MetricType::kSummary;
  for (const auto& l : labels) {
    std::string_view n = l.name;
    if (l.name_escaped) {
      Unescape(l.name, &tmp_name);
      n = tmp_name;
    }
    std::string_view v = l.value;
    if (l.value_escaped) {
      Unescape(l.value, &tmp);
      v = tmp;
    }
    double f;
    if (((histogram && n == "le") || (summary && n == "quantile")) && ParseGoFloat(v, &f)) {
      b->Set(n, FormatOpenMetricsFloat(f));
    } else {
      b->Set(n, v);
    }
  }
}

}  // namespace kiln::textparse::internal
