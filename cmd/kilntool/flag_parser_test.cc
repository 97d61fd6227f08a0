#include "cmd/kilntool/flag_parser.h"

#include <gtest/gtest.h>

namespace kiln::tool {
namespace {

TEST(FlagParserTest, KingpinForms) {
  auto f = ParseFlags({"--min-time=5", "--match", "up", "data/", "--strict", "--no-lint"},
                      {"min-time", "match"}, {"strict", "lint"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->Get("min-time", ""), "5");
  EXPECT_EQ(f->Get("match", ""), "up");
  EXPECT_EQ(f->Get("strict", ""), "true");
  EXPECT_EQ(f->Get("lint", ""), "false");
  EXPECT_EQ(f->positional, std::vector<std::string>{"data/"});
}

TEST(FlagParserTest, Errors) {
  auto unknown = ParseFlags({"--bogus"}, {}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown long flag '--bogus'");
  auto missing = ParseFlags({"--match"}, {"match"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "expected argument for flag '--match'");
}

}  // namespace
}  // namespace kiln::tool
