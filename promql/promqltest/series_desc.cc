// Series descriptions and the literal syntaxes they use (numbers, durations, Go strings).
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "pkg/model/value.h"
#include "promql/parser/literals.h"
#include "promql/parser/parser.h"
#include "promql/promqltest/test_file.h"

namespace kiln::promql::promqltest {

namespace {

// A cursor over one series description line.
class DescLexer {
 public:
  explicit DescLexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  std::string_view Rest() const { return s_.substr(i_); }
  size_t pos() const { return i_; }
  void Advance(size_t n) { i_ += n; }

  std::string Identifier() {
    size_t b = i_;
    while (i_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == ':'))
      ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  // A quoted string at the cursor, unquoted.
  Result<std::string> Quoted() {
    char q = Peek();
    size_t b = i_++;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\' && q != '`') ++i_;
      ++i_;
    }
    if (i_ >= s_.size()) return Status::BadData("unterminated quoted string");
    ++i_;
    return GoUnquote(s_.substr(b, i_ - b));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

Status ParseLabelSet(DescLexer* lx, std::vector<model::Label>* out) {
  lx->Advance(1);  // '{'
  while (true) {
    lx->SkipSpace();
    if (lx->Peek() == '}') {
      lx->Advance(1);
      return Status::OK();
    }
    std::string name;
    if (lx->Peek() == '"' || lx->Peek() == '\'' || lx->Peek() == '`') {
      KILN_ASSIGN_OR_RETURN(name, lx->Quoted());
    } else {
      name = lx->Identifier();
      if (name.empty()) return Status::BadData("expected label name at " + std::string(lx->Rest()));
    }
    lx->SkipSpace();
    if (lx->Peek() == '=') {
      lx->Advance(1);
      lx->SkipSpace();
      KILN_ASSIGN_OR_RETURN(std::string value, lx->Quoted());
      out->push_back({std::move(name), std::move(value)});
    } else {
      out->push_back({std::string(model::kMetricName), std::move(name)});
    }
    lx->SkipSpace();
    if (lx->Peek() == ',') lx->Advance(1);
  }
}

// Reads a float token (sign, digits, '.', exponent, Inf, NaN) without consuming an 'x'.
std::optional<double> ReadFloat(std::string_view s, size_t* i) {
  size_t b = *i;
  if (*i < s.size() && (s[*i] == '+' || s[*i] == '-')) ++*i;
  if (*i < s.size() && std::isalpha(static_cast<unsigned char>(s[*i]))) {
    size_t w = *i;
    while (*i < s.size() && std::isalpha(static_cast<unsigned char>(s[*i]))) ++*i;
    std::string_view word = s.substr(w, *i - w);
    // "Infx3" style items: the word ends before a trailing 'x'.
    if (word.size() > 3 && (word.back() == 'x')) {
      --*i;
      word.remove_suffix(1);
    }
    return ParseNumber(s.substr(b, *i - b));
  }
  while (*i < s.size()) {
    char c = s[*i];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_') {
      ++*i;
    } else if ((c == 'e' || c == 'E') && *i + 1 < s.size()) {
      ++*i;
      if (s[*i] == '+' || s[*i] == '-') ++*i;
    } else {
      break;
    }
  }
  return ParseNumber(s.substr(b, *i - b));
}

Result<uint64_t> ReadTimes(std::string_view s, size_t* i) {
  if (*i >= s.size() || s[*i] != 'x') return Status::BadData("expected 'x' in " + std::string(s));
  ++*i;
  size_t b = *i;
  while (*i < s.size() && std::isdigit(static_cast<unsigned char>(s[*i]))) ++*i;
  if (b == *i) return Status::BadData("expected repetition count in " + std::string(s));
  return std::strtoull(std::string(s.substr(b, *i - b)).c_str(), nullptr, 10);
}

// Expands one numeric item: `v`, `vxN`, `a+bxN`, `a-bxN`, `stale`, `_`, `_xN`.
Status ExpandItem(std::string_view item, std::vector<SequenceValue>* out) {
  if (item == "_") {
    out->push_back({.omitted = true});
    return Status::OK();
  }
  if (item.substr(0, 2) == "_x") {
    size_t i = 1;
    KILN_ASSIGN_OR_RETURN(uint64_t n, ReadTimes(item, &i));
    for (uint64_t k = 0; k < n; ++k) out->push_back({.omitted = true});
    return Status::OK();
  }
  if (item == "stale") {
    out->push_back({.value = model::StaleNaN()});
    return Status::OK();
  }
  size_t i = 0;
  std::optional<double> a = ReadFloat(item, &i);
  if (!a) return Status::BadData("invalid value \"" + std::string(item) + "\"");
  if (i == item.size()) {
    out->push_back({.value = *a});
    return Status::OK();
  }
  double delta = 0;
  if (item[i] == '+' || item[i] == '-') {
    std::optional<double> b = ReadFloat(item, &i);
    if (!b) return Status::BadData("invalid increment in \"" + std::string(item) + "\"");
    delta = *b;
  }
  KILN_ASSIGN_OR_RETURN(uint64_t n, ReadTimes(item, &i));
  if (i != item.size()) return Status::BadData("trailing text in \"" + std::string(item) + "\"");
  double v = *a;
  // Upstream accumulates by repeated addition; so do we, for bit-identical sequences.
  for (uint64_t k = 0; k <= n; ++k) {
    out->push_back({.value = v});
    v += delta;
  }
  return Status::OK();
}

// Counts the positions a histogram item (`{{…}}`, `{{…}}xN`, `{{…}}+{{…}}xN`) expands to.
Status ExpandHistogramItem(std::string_view item, std::vector<SequenceValue>* out) {
  size_t last = item.rfind("}}");
  std::string_view tail = item.substr(last + 2);
  uint64_t n = 0;
  size_t x = tail.find('x');
  if (x != std::string_view::npos) {
    size_t i = x;
    KILN_ASSIGN_OR_RETURN(n, ReadTimes(tail, &i));
  }
  for (uint64_t k = 0; k <= n; ++k) out->push_back({.histogram = true});
  return Status::OK();
}

// Splits the value part into items, keeping `{{ … }}` (which may hold spaces) together.
std::vector<std::string_view> SplitItems(std::string_view s) {
  std::vector<std::string_view> items;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    size_t b = i;
    int depth = 0;
    while (i < s.size()) {
      if (s.compare(i, 2, "{{") == 0) {
        ++depth;
        i += 2;
      } else if (s.compare(i, 2, "}}") == 0 && depth > 0) {
        --depth;
        i += 2;
      } else if (depth == 0 && std::isspace(static_cast<unsigned char>(s[i]))) {
        break;
      } else {
        ++i;
      }
    }
    items.push_back(s.substr(b, i - b));
  }
  return items;
}

}  // namespace

// The corpus uses PromQL's own literal syntax; the parser's functions define it.
Result<std::string> GoUnquote(std::string_view s) { return parser::Unquote(s); }

std::optional<double> ParseNumber(std::string_view s) {
  Result<double> v = parser::ParseNumber(s);
  if (!v.ok()) return std::nullopt;
  return *v;
}

Result<int64_t> ParseDuration(std::string_view s) { return parser::ParseDuration(s); }

Result<SeriesDesc> ParseSeriesDesc(std::string_view line) {
  DescLexer lx(line);
  lx.SkipSpace();
  std::vector<model::Label> labels;
  if (lx.Peek() != '{') {
    std::string name = lx.Identifier();
    if (name.empty()) return Status::BadData("invalid series description: " + std::string(line));
    labels.push_back({std::string(model::kMetricName), name});
  }
  lx.SkipSpace();
  if (lx.Peek() == '{' && lx.Rest().substr(0, 2) != "{{") {
    KILN_RETURN_IF_ERROR(ParseLabelSet(&lx, &labels));
  }
  SeriesDesc desc;
  desc.metric = model::Labels::FromVector(std::move(labels));
  for (std::string_view item : SplitItems(lx.Rest())) {
    if (item.substr(0, 2) == "{{") {
      desc.has_histogram = true;
      KILN_RETURN_IF_ERROR(ExpandHistogramItem(item, &desc.values));
    } else {
      KILN_RETURN_IF_ERROR(ExpandItem(item, &desc.values));
    }
  }
  return desc;
}

}  // namespace kiln::promql::promqltest
