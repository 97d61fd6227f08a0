#include "pkg/remote/series_labels.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pkg/util/utf8.h"

namespace kiln::remote {
namespace {

struct LabelsCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string want;  // Labels::ToString() on success
  std::string err;   // expected start of the error message on failure
};

TEST(SeriesLabelsTest, Table) {
  const std::vector<LabelsCase> cases = {
      {"sorted", {{"__name__", "up"}, {"job", "a"}}, R"({__name__="up", job="a"})", ""},
      {"unsorted",
       {{"job", "a"}, {"__name__", "up"}},
       "",
       R"(invalid labels for series, labels {job="a", __name__="up"}, labels are not sorted by name (__name__ after job))"},
      {"empty value dropped", {{"__name__", "up"}, {"x", ""}}, R"({__name__="up"})", ""},
      {"utf8 names",
       {{"__name__", "métrique"}, {"ñ.b", "v"}},
       R"({__name__="métrique", "ñ.b"="v"})",
       ""},
      {"no metric name", {{"job", "a"}}, "", R"(invalid metric name or labels, got {job="a"})"},
      {"empty metric name",
       {{"__name__", ""}, {"job", "a"}},
       "",
       R"(invalid metric name or labels, got {__name__="", job="a"})"},
      {"empty label name",
       {{"__name__", "up"}, {"", "a"}},
       "",
       R"(invalid metric name or labels, got {__name__="up", ="a"})"},
      {"bad utf8 value",
       {{"__name__", "up"}, {"a", "\xff"}},
       "",
       "invalid metric name or labels, got {"},
      {"duplicate",
       {{"__name__", "up"}, {"a", "1"}, {"a", "2"}},
       "",
       R"(invalid labels for series, labels {__name__="up", a="1", a="2"}, duplicated label a)"},
  };
  for (const auto& c : cases) {
    std::vector<model::LabelView> pairs;
    for (const auto& [n, v] : c.pairs) pairs.push_back({n, v});
    Result<model::Labels> got = BuildSeriesLabels(&pairs);
    if (c.err.empty()) {
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status().ToString();
      EXPECT_EQ(got->ToString(), c.want) << c.name;
    } else {
      ASSERT_FALSE(got.ok()) << c.name;
      EXPECT_EQ(got.status().code(), StatusCode::kBadData) << c.name;
      EXPECT_EQ(got.status().message().rfind(c.err, 0), 0u)
          << c.name << ": " << got.status().message();
    }
  }
}

TEST(SeriesLabelsTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));       // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));   // emoji
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("a\x80"));             // stray continuation
}

}  // namespace
}  // namespace kiln::remote
