// Label matchers: =, !=, =~, !~. Regexes are RE2, fully anchored, with `.` matching newline
// (Prometheus 3.x semantics). Common regex shapes skip RE2 entirely: literal alternations
// (`a|b|c`), prefixes (`foo.*`), suffixes (`.*foo`), substrings (`.*foo.*`), `.*` and `.+`.
// Thread-safe after construction (immutable; the compiled regex is shared).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/util/result.h"

namespace kiln::model {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

std::string_view MatchTypeString(MatchType t);  // "=", "!=", "=~", "!~"

// A compiled, anchored regular expression with fast paths for simple shapes.
class FastRegex {
 public:
  static Result<std::shared_ptr<const FastRegex>> Compile(std::string_view pattern);
  bool Matches(std::string_view s) const;
  // Non-empty when the regex matches exactly a finite set of literal strings.
  const std::vector<std::string>& SetMatches() const { return set_; }
  // Whether the regex matches the empty string.
  bool MatchesEmpty() const { return Matches(""); }
  ~FastRegex();

 private:
  FastRegex() = default;
  enum class Kind { kRe2, kSet, kPrefix, kSuffix, kContains, kAny, kNonEmpty };
  Kind kind_ = Kind::kRe2;
  std::vector<std::string> set_;
  std::string literal_;
  struct Re2Holder;
  std::unique_ptr<Re2Holder> re_;
};

class Matcher {
 public:
  // Fails (bad data) when a regex does not compile.
  static Result<Matcher> Make(MatchType type, std::string_view name, std::string_view value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  bool Matches(std::string_view v) const;
  // Non-empty when this matcher can only match a finite set of values (=, or =~ a|b).
  std::vector<std::string> SetMatches() const;
  // Prometheus's String(): name="value" with Go quoting; names quoted when not legacy-valid.
  std::string ToString() const;

 private:
  Matcher() = default;
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const FastRegex> re_;
};

// True when every matcher matches the corresponding label of `ls` (absent label = "").
bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& ls);

}  // namespace kiln::model
