#include "promql/parser/literals.h"

#include <gtest/gtest.h>

#include <cmath>

#include "promql/parser/parser.h"

namespace kiln::promql::parser {
namespace {

TEST(LiteralsTest, ParseDuration) {
  const struct {
    const char* in;
    int64_t ms;
  } kGood[] = {{"0", 0},
               {"0s", 0},
               {"5ms", 5},
               {"1s", 1000},
               {"1m30s", 90000},
               {"1h", 3600000},
               {"2d", 172800000},
               {"1w", 604800000},
               {"1y", 31536000000},
               {"1y2w3d4h5m6s7ms",
                31536000000 + 2 * 604800000 + 3 * 86400000 + 4 * 3600000 + 5 * 60000 + 6000 + 7}};
  for (const auto& c : kGood) {
    auto r = ParseDuration(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().message();
    EXPECT_EQ(*r, c.ms) << c.in;
  }
  const struct {
    const char* in;
    const char* err;
  } kBad[] = {{"", "empty duration string"},
              {"1", "not a valid duration string: \"1\""},
              {"1.5h", "unknown unit \".\" in duration \"1.5h\""},
              {"5m1h", "not a valid duration string: \"5m1h\""},
              {"1s1s", "not a valid duration string: \"1s1s\""},
              {"-1s", "not a valid duration string: \"-1s\""},
              {"3x", "unknown unit \"x\" in duration \"3x\""},
              {"300y", "duration out of range"}};
  for (const auto& c : kBad) {
    auto r = ParseDuration(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.status().message(), c.err) << c.in;
  }
}

TEST(LiteralsTest, FormatDuration) {
  const struct {
    int64_t ms;
    const char* out;
  } kCases[] = {
      {0, "0s"},         {1, "1ms"},          {90000, "1m30s"},    {86400000, "1d"},
      {604800000, "1w"}, {7776000000, "90d"}, {31536000000, "1y"}, {3723004, "1h2m3s4ms"}};
  for (const auto& c : kCases) EXPECT_EQ(FormatDuration(c.ms), c.out) << c.ms;
}

TEST(LiteralsTest, ParseNumber) {
  const struct {
    const char* in;
    double v;
  } kCases[] = {{"1", 1},          {"0x1F", 31},        {"017", 15},       {"089", 89},
                {"1_000", 1000},   {"1e3", 1000},       {".5", 0.5},       {"0x1p-2", 0.25},
                {"Inf", INFINITY}, {"-inf", -INFINITY}, {"1.5e-3", 0.0015}};
  for (const auto& c : kCases) {
    auto r = ParseNumber(c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_EQ(*r, c.v) << c.in;
  }
  EXPECT_TRUE(std::isnan(*ParseNumber("NaN")));
  EXPECT_FALSE(ParseNumber("1x").ok());
  EXPECT_FALSE(ParseNumber("").ok());
}

TEST(LiteralsTest, UnquoteAndQuote) {
  EXPECT_EQ(*Unquote("\"a\\nb\""), "a\nb");
  EXPECT_EQ(*Unquote("'it\\'s'"), "it's");
  EXPECT_EQ(*Unquote("`raw\\n`"), "raw\\n");
  EXPECT_EQ(*Unquote("\"\\u00e4\\U0001F600\\x41\\101\""), "ä😀AA");
  EXPECT_FALSE(Unquote("\"\\'\"").ok());
  EXPECT_FALSE(Unquote("\"\\q\"").ok());
  EXPECT_EQ(GoQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(GoQuote("a\xc5z"), "\"a\\xc5z\"");
  EXPECT_EQ(GoQuote("ä"), "\"ä\"");
}

TEST(LiteralsTest, FormatFloat) {
  EXPECT_EQ(FormatFloat(1), "1");
  EXPECT_EQ(FormatFloat(0.1), "0.1");
  EXPECT_EQ(FormatFloat(-2.5), "-2.5");
  EXPECT_EQ(FormatFloat(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatFloat(INFINITY), "+Inf");
  EXPECT_EQ(FormatFloat(NAN), "NaN");
  EXPECT_EQ(FormatFloatG(1e21), "1e+21");
  EXPECT_EQ(FormatFloatG(0.00001), "1e-05");
  EXPECT_EQ(FormatFloatG(123.5), "123.5");
}

}  // namespace
}  // namespace kiln::promql::parser
