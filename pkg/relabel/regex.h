// Regex: a relabeling regular expression as Prometheus compiles it.
//
// The pattern is fully anchored and `.` matches newline (Prometheus 3.x wraps every relabel
// regex as `^(?s:<pattern>)$`). Expansion of `$1`, `${1}`, `$name`, `${name}` and `$$` follows
// Go's regexp.Expand exactly, including its greedy name rule: `$1x` names the group "1x", which
// does not exist and so expands to nothing. Group names are ASCII words (Go also accepts
// non-ASCII letters; no relabel config in the wild relies on that).
//
// Thread-safe: immutable after Compile; copies share the compiled program.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/util/result.h"

namespace re2 {
class RE2;
}

namespace kiln::relabel {

class Regex {
 public:
  // Fails (bad data, "error parsing regexp: …") when the pattern does not compile.
  static Result<Regex> Compile(std::string_view pattern);
  // The default relabel regex, `(.*)`.
  static const Regex& Default();

  // The pattern as written by the user, without the anchoring.
  const std::string& pattern() const { return pattern_; }
  bool IsDefault() const { return pattern_ == "(.*)"; }

  // Whether the whole of `s` matches.
  bool Match(std::string_view s) const;
  // Matches the whole of `s`; on success `groups` holds group 0 (all of `s`) and every
  // capturing group (empty when it did not participate).
  bool Submatches(std::string_view s, std::vector<std::string_view>* groups) const;
  // Appends `tmpl` to `out` with variables replaced by `groups` as Go's Regexp.Expand does.
  void Expand(std::string_view tmpl, const std::vector<std::string_view>& groups,
              std::string* out) const;

 private:
  Regex() = default;
  int GroupIndex(std::string_view name) const;  // -1 when there is no such named group

  std::string pattern_;
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace kiln::relabel
