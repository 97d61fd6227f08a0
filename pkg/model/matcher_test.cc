#include "pkg/model/matcher.h"

#include <gtest/gtest.h>

namespace kiln::model {
namespace {

struct Case {
  MatchType type;
  std::string pattern;
  std::string input;
  bool want;
};

TEST(MatcherTest, Table) {
  const Case cases[] = {
      {MatchType::kEqual, "a", "a", true},
      {MatchType::kEqual, "a", "", false},
      {MatchType::kNotEqual, "a", "b", true},
      {MatchType::kRegexMatch, "a|b", "b", true},
      {MatchType::kRegexMatch, "a|b", "ab", false},
      {MatchType::kRegexMatch, "foo.*", "foobar", true},
      {MatchType::kRegexMatch, "foo.*", "xfoo", false},
      {MatchType::kRegexMatch, ".*bar", "foobar", true},
      {MatchType::kRegexMatch, ".*oo.*", "foobar", true},
      {MatchType::kRegexMatch, ".*oo.*", "fbar", false},
      {MatchType::kRegexMatch, ".*", "", true},
      {MatchType::kRegexMatch, ".+", "", false},
      {MatchType::kRegexMatch, "a.c", "abc", true},
      {MatchType::kRegexMatch, "a.c", "xabcx", false},  // fully anchored
      {MatchType::kRegexMatch, "a.c", "a\nc", true},     // 3.x: . matches newline
      {MatchType::kRegexMatch, "(?i)ABC", "abc", true},
      {MatchType::kRegexNoMatch, "a|b", "c", true},
      {MatchType::kRegexNoMatch, "", "", false},
      {MatchType::kRegexMatch, "", "", true},
      {MatchType::kRegexMatch, "fo+", "foo", true},
  };
  for (const auto& c : cases) {
    auto m = Matcher::Make(c.type, "l", c.pattern);
    ASSERT_TRUE(m.ok()) << c.pattern;
    EXPECT_EQ(m->Matches(c.input), c.want) << c.pattern << " on " << c.input;
  }
}

TEST(MatcherTest, BadRegexIsAnError) {
  auto m = Matcher::Make(MatchType::kRegexMatch, "l", "a(");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kBadData);
  EXPECT_NE(m.status().message().find("error parsing regexp"), std::string::npos);
}

// Go's wording and quoting, as Prometheus 3.x reports invalid matchers.
TEST(MatcherTest, RegexErrorsReadAsInPrometheus) {
  const std::pair<std::string, std::string> cases[] = {
      {"(", "error parsing regexp: missing closing ): `(`"},
      {"a(b", "error parsing regexp: missing closing ): `a(b`"},
      {"a)", "error parsing regexp: unexpected ): `a)`"},
      {"[a", "error parsing regexp: missing closing ]: `[a`"},
      {"*a", "error parsing regexp: missing argument to repetition operator: `*`"},
      {"a\\q", "error parsing regexp: invalid escape sequence: `\\q`"},
  };
  for (const auto& [pattern, want] : cases) {
    auto m = Matcher::Make(MatchType::kRegexMatch, "l", pattern);
    ASSERT_FALSE(m.ok()) << pattern;
    EXPECT_EQ(m.status().message(), want) << pattern;
  }
}

TEST(MatcherTest, SetMatchesAndString) {
  auto m = Matcher::Make(MatchType::kRegexMatch, "job", "a|b|c");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->SetMatches(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m->ToString(), R"(job=~"a|b|c")");
}

}  // namespace
}  // namespace kiln::model
