// The message Prometheus (Go's regexp/syntax) gives for an invalid regular expression, for a
// pattern RE2 refused: "error parsing regexp: missing closing ): `(`". Shared by everything
// that compiles user regexes with RE2, so API errors read as they do in Prometheus.
#pragma once

#include <re2/re2.h>

#include <string>
#include <string_view>

namespace kiln::model {

// `re` failed to compile `wrapper_prefix + pattern + wrapper_suffix`. The quoted part is
// RE2's offending fragment without the wrapper's suffix, or `pattern` itself when the
// fragment includes the wrapper's prefix (Go quotes the whole expression for unbalanced
// parentheses).
std::string RegexErrorMessage(const RE2& re, std::string_view pattern,
                              std::string_view wrapper_prefix, std::string_view wrapper_suffix);

}  // namespace kiln::model
