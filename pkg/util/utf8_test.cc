#include "pkg/util/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln {
namespace {

struct Utf8Case {
  std::string name;
  std::string input;
  bool valid;
};

// Go's utf8.ValidString verdicts.
TEST(Utf8Test, MatchesGoValidString) {
  const std::vector<Utf8Case> cases = {
      {"empty", "", true},
      {"ascii", "http_requests_total", true},
      {"long ascii then bad", "abcdefghijklmnop\xff", false},
      {"two-byte", "m\xc3\xa9trique", true},
      {"three-byte", "\xe2\x82\xac", true},
      {"four-byte", "\xf0\x9f\x94\xa5", true},
      {"max code point", "\xf4\x8f\xbf\xbf", true},
      {"above max", "\xf4\x90\x80\x80", false},
      {"overlong two-byte", "\xc0\xaf", false},
      {"overlong three-byte", "\xe0\x80\xaf", false},
      {"overlong four-byte", "\xf0\x80\x80\xaf", false},
      {"surrogate", "\xed\xa0\x80", false},
      {"last before surrogates", "\xed\x9f\xbf", true},
      {"lone continuation", "\x80", false},
      {"truncated", "\xe2\x82", false},
      {"truncated at end of long ascii", "abcdefgh\xe2\x82", false},
      {"bad continuation", "\xe2\x28\xa1", false},
      {"0xff", "\xff", false},
      {"nul is valid", std::string("a\0b", 3), true},
  };
  for (const auto& c : cases) EXPECT_EQ(IsValidUtf8(c.input), c.valid) << c.name;
}

}  // namespace
}  // namespace kiln
