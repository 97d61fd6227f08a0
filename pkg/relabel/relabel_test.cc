#include "pkg/relabel/relabel.h"

#include <gtest/gtest.h>

namespace kiln::relabel {
namespace {

using model::Labels;

struct Rule {
  std::vector<std::string> source_labels;
  std::string action = "replace";
  std::string regex = "(.*)";
  std::string target_label;
  std::string replacement = "$1";
  uint64_t modulus = 0;
  std::string separator = ";";
};

RelabelConfig Build(const Rule& r) {
  RelabelConfig c;
  c.source_labels = r.source_labels;
  c.action = ParseAction(r.action).value();
  c.regex = Regex::Compile(r.regex).value();
  c.target_label = r.target_label;
  c.replacement = r.replacement;
  c.modulus = r.modulus;
  c.separator = r.separator;
  return c;
}

struct Case {
  std::string name;
  Labels input;
  std::vector<Rule> rules;
  std::optional<Labels> want;  // nullopt: dropped
};

// hashmod expectations: the last 8 bytes of md5(value) as a big-endian uint64, mod modulus.
// md5("baz") = ...c5a0f2cd0c3e3d54 → 976 mod 1000 (the value upstream's own test expects);
// md5("foo") → 696, md5("foo;bar") → 0 mod 10, md5("") → 958 mod 1000, md5("a") mod 2^32 →
// 1769416289 (computed with Python's hashlib).
std::vector<Case> Cases() {
  return {
      {"replace with group",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.source_labels = {"a"},
         .regex = "f(.*)",
         .target_label = "d",
         .replacement = "ch${1}-ch${1}"}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "choo-choo"}}},
      {"replace joins sources with separator",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.source_labels = {"a", "b"},
         .regex = "f(.*);(.*)r",
         .target_label = "a",
         .replacement = "b${1}${2}m"},
        {.source_labels = {"c", "a"},
         .regex = "(b).*b(.*)ba(.*)",
         .target_label = "d",
         .replacement = "$1$2$2$3"}},
       Labels{{"a", "boobam"}, {"b", "bar"}, {"c", "baz"}, {"d", "boooom"}}},
      {"replace no match leaves set",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "o", .target_label = "b", .replacement = "x"}},
       Labels{{"a", "foo"}}},
      {"replace empty result deletes target",
       {{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a"}, .regex = "foo", .target_label = "b", .replacement = "$1"}},
       Labels{{"a", "foo"}}},
      {"replace constant onto missing source (fast path)",
       {{"a", "foo"}},
       {{.source_labels = {"z"}, .target_label = "b", .replacement = "const"}},
       Labels{{"a", "foo"}, {"b", "const"}}},
      {"replace target from group",
       {{"a", "some-name-value"}},
       {{.source_labels = {"a"},
         .regex = "some-([^-]+)-([^,]+)",
         .target_label = "${1}",
         .replacement = "${2}"}},
       Labels{{"a", "some-name-value"}, {"name", "value"}}},
      {"replace $1x is group 1x",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .target_label = "b", .replacement = "$1x"}},
       Labels{{"a", "foo"}}},
      {"replace invalid expanded target is skipped",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(.*)", .target_label = "${2}", .replacement = "x"}},
       Labels{{"a", "foo"}}},
      {"regex is anchored",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "o", .target_label = "b", .replacement = "x"},
        {.source_labels = {"a"}, .regex = "f.", .target_label = "c", .replacement = "x"}},
       Labels{{"a", "foo"}}},
      {"drop matching",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .action = "drop", .regex = ".*o.*"}},
       std::nullopt},
      {"drop non-matching keeps",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .action = "drop", .regex = "f"}},
       Labels{{"a", "foo"}}},
      {"keep non-matching drops",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .action = "keep", .regex = "no-match"}},
       std::nullopt},
      {"keep matching",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .action = "keep", .regex = "f.*"}},
       Labels{{"a", "foo"}}},
      {"keep on missing label matches empty",
       {{"a", "foo"}},
       {{.source_labels = {"z"}, .action = "keep", .regex = ""}},
       Labels{{"a", "foo"}}},
      {"action is case-insensitive",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .action = "DROP", .regex = "foo"}},
       std::nullopt},
      {"keepequal equal keeps",
       {{"a", "foo"}, {"b", "foo"}},
       {{.source_labels = {"a"}, .action = "keepequal", .target_label = "b"}},
       Labels{{"a", "foo"}, {"b", "foo"}}},
      {"keepequal different drops",
       {{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a"}, .action = "keepequal", .target_label = "b"}},
       std::nullopt},
      {"dropequal equal drops",
       {{"a", "foo"}, {"b", "foo"}},
       {{.source_labels = {"a"}, .action = "dropequal", .target_label = "b"}},
       std::nullopt},
      {"dropequal different keeps",
       {{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a"}, .action = "dropequal", .target_label = "b"}},
       Labels{{"a", "foo"}, {"b", "bar"}}},
      {"hashmod baz",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.source_labels = {"c"}, .action = "hashmod", .target_label = "d", .modulus = 1000}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "976"}}},
      {"hashmod foo",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .action = "hashmod", .target_label = "h", .modulus = 1000}},
       Labels{{"a", "foo"}, {"h", "696"}}},
      {"hashmod joined",
       {{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a", "b"}, .action = "hashmod", .target_label = "h", .modulus = 10}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"h", "0"}}},
      {"hashmod empty",
       {{"a", "foo"}},
       {{.source_labels = {"z"}, .action = "hashmod", .target_label = "h", .modulus = 1000}},
       Labels{{"a", "foo"}, {"h", "958"}}},
      {"hashmod wide modulus",
       {{"a", "a"}},
       {{.source_labels = {"a"},
         .action = "hashmod",
         .target_label = "h",
         .modulus = uint64_t{1} << 32}},
       Labels{{"a", "a"}, {"h", "1769416289"}}},
      {"labelmap",
       {{"__meta_my_bar", "aaa"}, {"__meta_my_baz", "bbb"}, {"a", "foo"}},
       {{.action = "labelmap", .regex = "__meta_(my.*)", .replacement = "${1}"}},
       Labels{{"__meta_my_bar", "aaa"},
              {"__meta_my_baz", "bbb"},
              {"a", "foo"},
              {"my_bar", "aaa"},
              {"my_baz", "bbb"}}},
      {"labelmap rename scheme",
       {{"a", "foo"}, {"b", "bar"}},
       {{.action = "labelmap", .regex = "(a|b)", .replacement = "x_$1"}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"x_a", "foo"}, {"x_b", "bar"}}},
      {"labeldrop",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.action = "labeldrop", .regex = "a|b"}},
       Labels{{"c", "baz"}}},
      {"labelkeep",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.action = "labelkeep", .regex = "a|b"}},
       Labels{{"a", "foo"}, {"b", "bar"}}},
      {"labeldrop anchored",
       {{"aa", "foo"}, {"a", "bar"}},
       {{.action = "labeldrop", .regex = "a"}},
       Labels{{"aa", "foo"}}},
      {"lowercase",
       {{"foo", "bAr123Foo"}},
       {{.source_labels = {"foo"}, .action = "lowercase", .target_label = "l"}},
       Labels{{"foo", "bAr123Foo"}, {"l", "bar123foo"}}},
      {"uppercase",
       {{"foo", "bAr123Foo"}},
       {{.source_labels = {"foo"}, .action = "uppercase", .target_label = "u"}},
       Labels{{"foo", "bAr123Foo"}, {"u", "BAR123FOO"}}},
      {"rules apply in order and stop at drop",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .target_label = "b", .replacement = "bar"},
        {.source_labels = {"b"}, .action = "drop", .regex = "bar"},
        {.source_labels = {"a"}, .target_label = "c", .replacement = "never"}},
       std::nullopt},
      {"utf8 target label",
       {{"a", "foo"}},
       {{.source_labels = {"a"}, .target_label = "ünïcode.name", .replacement = "x"}},
       Labels{{"a", "foo"}, {"ünïcode.name", "x"}}},
  };
}

TEST(RelabelTest, Table) {
  for (const auto& c : Cases()) {
    std::vector<RelabelConfig> configs;
    for (const auto& r : c.rules) {
      configs.push_back(Build(r));
      ASSERT_TRUE(configs.back().Validate().ok())
          << c.name << ": " << configs.back().Validate().ToString();
    }
    auto got = Process(c.input, configs);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.name;
    if (got) {
      EXPECT_EQ(got->ToString(), c.want->ToString()) << c.name;
    }
  }
}

struct InvalidCase {
  Rule rule;
  NameValidation scheme;
  std::string want;
};

TEST(RelabelTest, Validate) {
  const auto kLegacy = NameValidation::kLegacy;
  const auto kUtf8 = NameValidation::kUtf8;
  const std::vector<InvalidCase> cases = {
      {{.action = "hashmod", .target_label = "h"},
       kUtf8,
       "relabel configuration for hashmod requires non-zero modulus"},
      {{.action = "replace"},
       kUtf8,
       "relabel configuration for replace action requires 'target_label' value"},
      {{.action = "lowercase"},
       kUtf8,
       "relabel configuration for lowercase action requires 'target_label' value"},
      {{.action = "replace", .target_label = "0abc"},
       kLegacy,
       "\"0abc\" is invalid 'target_label' for replace action"},
      {{.action = "replace", .target_label = "a-$1"},
       kLegacy,
       "\"a-$1\" is invalid 'target_label' for replace action"},
      {{.action = "uppercase", .target_label = "u", .replacement = "x"},
       kUtf8,
       "'replacement' can not be set for uppercase action"},
      {{.action = "labelmap", .replacement = "a-$1"},
       kLegacy,
       "\"a-$1\" is invalid 'replacement' for labelmap action"},
      {{.action = "keepequal", .regex = "x", .target_label = "b"},
       kUtf8,
       "keepequal action requires only 'source_labels' and `target_label`, and no other "
       "fields"},
      {{.source_labels = {"a"}, .action = "labeldrop", .regex = "x"},
       kUtf8,
       "labeldrop action requires only 'regex', and no other fields"},
      {{.action = "labelkeep", .target_label = "t"},
       kUtf8,
       "labelkeep action requires only 'regex', and no other fields"},
  };
  for (const auto& c : cases) {
    RelabelConfig cfg = Build(c.rule);
    cfg.name_validation = c.scheme;
    Status s = cfg.Validate();
    EXPECT_FALSE(s.ok()) << c.want;
    EXPECT_EQ(s.message(), c.want);
  }
  RelabelConfig ok = Build({.action = "replace", .target_label = "a-$1"});
  EXPECT_TRUE(ok.Validate().ok()) << "UTF-8 scheme accepts any UTF-8 template";
}

TEST(RelabelTest, ParseActionRejectsUnknown) {
  auto a = ParseAction("explode");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "unknown relabel action \"explode\"");
}

TEST(RelabelTest, InvalidUtf8TargetSkipped) {
  RelabelConfig c =
      Build({.source_labels = {"a"}, .regex = "(.*)", .target_label = "$1", .replacement = "v"});
  auto got = Process(Labels{{"a", "\xff\xfe"}}, {c});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->ToString(), Labels({{"a", "\xff\xfe"}}).ToString());
}

}  // namespace
}  // namespace kiln::relabel
