#include "pkg/relabel/regex.h"

#include <gtest/gtest.h>

namespace kiln::relabel {
namespace {

struct ExpandCase {
  std::string pattern;
  std::string input;
  std::string tmpl;
  std::string want;
};

// Expected values follow Go's regexp.Expand: names are greedy word runs, unknown or
// out-of-range groups expand to nothing, malformed references keep the `$`.
TEST(RegexTest, ExpandFollowsGoSemantics) {
  const std::vector<ExpandCase> cases = {
      {"(a)(b)", "ab", "$1-$2", "a-b"},
      {"(a)(b)", "ab", "${1}x", "ax"},
      {"(a)(b)", "ab", "$1x", ""},  // group "1x" does not exist
      {"(a)(b)", "ab", "$3", ""},
      {"(a)(b)", "ab", "$$1", "$1"},
      {"(a)(b)", "ab", "$", "$"},
      {"(a)(b)", "ab", "${1", "${1"},
      {"(a)(b)", "ab", "$-", "$-"},
      {"(a)(b)", "ab", "$0", "ab"},
      {"(a)(b)", "ab", "$01", ""},  // leading zero: treated as a name
      {"(?P<first>a)(?P<second>b)", "ab", "$second$first", "ba"},
      {"(?P<first>a)(?P<second>b)", "ab", "${second}_${first}", "b_a"},
      {"(?P<first>a)(?P<second>b)", "ab", "$nosuch", ""},
      {"(a)|(b)", "b", "[$1][$2]", "[][b]"},
      {"(.*)", "x\ny", "<$1>", "<x\ny>"},  // `.` matches newline
  };
  for (const auto& c : cases) {
    auto re = Regex::Compile(c.pattern);
    ASSERT_TRUE(re.ok()) << c.pattern;
    std::vector<std::string_view> groups;
    ASSERT_TRUE(re->Submatches(c.input, &groups)) << c.pattern;
    std::string out;
    re->Expand(c.tmpl, groups, &out);
    EXPECT_EQ(out, c.want) << c.pattern << " " << c.tmpl;
  }
}

TEST(RegexTest, FullyAnchored) {
  auto re = Regex::Compile("foo|bar");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->Match("foo"));
  EXPECT_TRUE(re->Match("bar"));
  EXPECT_FALSE(re->Match("foobar"));
  EXPECT_FALSE(re->Match("xfoo"));
  EXPECT_EQ(re->pattern(), "foo|bar");
}

TEST(RegexTest, BadPattern) {
  auto re = Regex::Compile("(abc");
  ASSERT_FALSE(re.ok());
  EXPECT_NE(re.status().message().find("error parsing regexp"), std::string::npos);
}

}  // namespace
}  // namespace kiln::relabel
