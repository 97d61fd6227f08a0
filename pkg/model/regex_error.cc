#include "pkg/model/regex_error.h"

namespace kiln::model {

namespace {

// Go's regexp/syntax ErrorCode texts for RE2's codes.
std::string_view GoWording(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return {};
  }
}

}  // namespace

std::string RegexErrorMessage(const RE2& re, std::string_view pattern,
                              std::string_view wrapper_prefix, std::string_view wrapper_suffix) {
  std::string_view wording = GoWording(re.error_code());
  std::string arg = re.error_arg();
  if (!wrapper_prefix.empty() && arg.find(wrapper_prefix) != std::string::npos) {
    arg = std::string(pattern);
  } else if (!wrapper_suffix.empty() && arg.ends_with(wrapper_suffix)) {
    arg.resize(arg.size() - wrapper_suffix.size());
  }
  if (wording.empty()) return "error parsing regexp: " + re.error();
  return "error parsing regexp: " + std::string(wording) + ": `" + arg + "`";
}

}  // namespace kiln::model
