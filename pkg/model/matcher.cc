#include "pkg/model/matcher.h"

#include <re2/re2.h>

#include "pkg/model/regex_error.h"

namespace kiln::model {

struct FastRegex::Re2Holder {
  explicit Re2Holder(const std::string& anchored, const RE2::Options& o) : re(anchored, o) {}
  RE2 re;
};

FastRegex::~FastRegex() = default;

namespace {

bool IsMeta(char c) {
  switch (c) {
    case '\\': case '.': case '+': case '*': case '?': case '(': case ')': case '|':
    case '[': case ']': case '{': case '}': case '^': case '$':
      return true;
    default:
      return false;
  }
}

bool IsLiteral(std::string_view s) {
  for (char c : s) {
    if (IsMeta(c)) return false;
  }
  return true;
}

// Splits `a|b|c` into literals when every alternative is a plain literal.
bool SplitLiteralAlternation(std::string_view s, std::vector<std::string>* out) {
  out->clear();
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); i++) {
    if (i == s.size() || s[i] == '|') {
      std::string_view part = s.substr(start, i - start);
      if (!IsLiteral(part)) return false;
      out->emplace_back(part);
      start = i + 1;
    }
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<const FastRegex>> FastRegex::Compile(std::string_view pattern) {
  // Always compile with RE2 so invalid patterns are rejected with RE2's message even when a
  // fast path would handle them.
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  constexpr std::string_view kPrefix = "^(?:", kSuffix = ")$";
  auto holder = std::make_unique<Re2Holder>(
      std::string(kPrefix) + std::string(pattern) + std::string(kSuffix), opts);
  if (!holder->re.ok()) {
    return Status::BadData(RegexErrorMessage(holder->re, pattern, kPrefix, kSuffix));
  }
  std::shared_ptr<FastRegex> r(new FastRegex());
  std::string_view p = pattern;
  if (p == ".*") {
    r->kind_ = Kind::kAny;
  } else if (p == ".+") {
    r->kind_ = Kind::kNonEmpty;
  } else if (SplitLiteralAlternation(p, &r->set_)) {
    r->kind_ = Kind::kSet;
  } else if (p.size() > 4 && p.starts_with(".*") && p.ends_with(".*") &&
             IsLiteral(p.substr(2, p.size() - 4))) {
    r->kind_ = Kind::kContains;
    r->literal_ = std::string(p.substr(2, p.size() - 4));
  } else if (p.size() > 2 && p.ends_with(".*") && IsLiteral(p.substr(0, p.size() - 2))) {
    r->kind_ = Kind::kPrefix;
    r->literal_ = std::string(p.substr(0, p.size() - 2));
  } else if (p.size() > 2 && p.starts_with(".*") && IsLiteral(p.substr(2))) {
    r->kind_ = Kind::kSuffix;
    r->literal_ = std::string(p.substr(2));
  } else {
    r->kind_ = Kind::kRe2;
  }
  if (r->kind_ != Kind::kSet) r->set_.clear();
  if (r->kind_ == Kind::kRe2) r->re_ = std::move(holder);
  return std::shared_ptr<const FastRegex>(std::move(r));
}

bool FastRegex::Matches(std::string_view s) const {
  switch (kind_) {
    case Kind::kAny: return true;
    case Kind::kNonEmpty: return !s.empty();
    case Kind::kSet:
      for (const auto& v : set_) {
        if (v == s) return true;
      }
      return false;
    case Kind::kPrefix: return s.starts_with(literal_);
    case Kind::kSuffix: return s.ends_with(literal_);
    case Kind::kContains: return s.find(literal_) != std::string_view::npos;
    case Kind::kRe2: return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), re_->re);
  }
  return false;
}

std::string_view MatchTypeString(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "=";
}

Result<Matcher> Matcher::Make(MatchType type, std::string_view name, std::string_view value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::string(name);
  m.value_ = std::string(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    KILN_ASSIGN_OR_RETURN(m.re_, FastRegex::Compile(value));
  }
  return m;
}

bool Matcher::Matches(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual: return v == value_;
    case MatchType::kNotEqual: return v != value_;
    case MatchType::kRegexMatch: return re_->Matches(v);
    case MatchType::kRegexNoMatch: return !re_->Matches(v);
  }
  return false;
}

std::vector<std::string> Matcher::SetMatches() const {
  if (type_ == MatchType::kEqual) return {value_};
  if (type_ == MatchType::kRegexMatch) return re_->SetMatches();
  return {};
}

std::string Matcher::ToString() const {
  std::string s;
  if (IsValidLegacyLabelName(name_)) {
    s = name_;
  } else {
    AppendGoQuoted(&s, name_);
  }
  s += MatchTypeString(type_);
  AppendGoQuoted(&s, value_);
  return s;
}

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& ls) {
  for (const auto& m : matchers) {
    if (!m.Matches(ls.Get(m.name()))) return false;
  }
  return true;
}

}  // namespace kiln::model
