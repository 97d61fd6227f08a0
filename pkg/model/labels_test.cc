#include "pkg/model/labels.h"

#include <gtest/gtest.h>

namespace kiln::model {
namespace {

TEST(LabelsTest, SortedAndDeduplicated) {
  Labels l{{"job", "api"}, {"__name__", "up"}, {"instance", "a:1"}, {"job", "web"}, {"x", ""}};
  EXPECT_EQ(l.ToString(), R"({__name__="up", instance="a:1", job="web"})");
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.Get("job"), "web");
  EXPECT_EQ(l.Get("nope"), "");
  EXPECT_EQ(l.MetricName(), "up");
}

TEST(LabelsTest, CompareMatchesPrometheus) {
  struct Case {
    Labels a, b;
    int want;
  } cases[] = {
      {Labels{{"a", "1"}}, Labels{{"a", "1"}}, 0},
      {Labels{{"a", "1"}}, Labels{{"a", "2"}}, -1},
      {Labels{{"a", "1"}}, Labels{{"b", "0"}}, -1},
      {Labels{{"a", "1"}}, Labels{{"a", "1"}, {"b", "1"}}, -1},
      {Labels{{"b", "1"}}, Labels{{"a", "1"}, {"b", "1"}}, 1},
      {Labels{}, Labels{{"a", "1"}}, -1},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Labels::Compare(c.a, c.b), c.want) << c.a.ToString() << " vs " << c.b.ToString();
    EXPECT_EQ(Labels::Compare(c.b, c.a), -c.want);
  }
}

TEST(LabelsTest, HashesDistinguishBoundaries) {
  Labels a{{"ab", "c"}}, b{{"a", "bc"}};
  EXPECT_NE(a.Hash(), b.Hash());
  EXPECT_NE(a.HashForLabels({"ab", "a"}), b.HashForLabels({"ab", "a"}));
  Labels x{{"__name__", "m"}, {"job", "j"}, {"i", "1"}};
  Labels y{{"__name__", "n"}, {"job", "j"}, {"i", "2"}};
  EXPECT_EQ(x.HashWithoutLabels({"i"}), y.HashWithoutLabels({"i"}));
  EXPECT_EQ(x.HashForLabels({"job"}), y.HashForLabels({"job"}));
  EXPECT_NE(x.HashForLabels({"i"}), y.HashForLabels({"i"}));
}

TEST(LabelsTest, BuilderSetAndDelete) {
  Labels base{{"__name__", "m"}, {"a", "1"}};
  LabelsBuilder b(base);
  b.Set("c", "3").Set("a", "").Set("b", "2");
  EXPECT_EQ(b.Build().ToString(), R"({__name__="m", b="2", c="3"})");
  EXPECT_EQ(base.WithoutMetricName().ToString(), R"({a="1"})");
}

TEST(LabelsTest, QuotingOfOddNamesAndValues) {
  Labels l{{"a.b", "x\"y\n"}};
  EXPECT_EQ(l.ToString(), R"({"a.b"="x\"y\n"})");
}

}  // namespace
}  // namespace kiln::model
