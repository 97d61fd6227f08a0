#include "pkg/tsdb/mem_postings.h"

#include <gtest/gtest.h>

#include <thread>

namespace kiln::tsdb {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;

class MemPostingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_.Add(1, Labels{{"__name__", "up"}, {"job", "a"}, {"instance", "1"}});
    p_.Add(2, Labels{{"__name__", "up"}, {"job", "b"}, {"instance", "2"}});
    p_.Add(3, Labels{{"__name__", "up"}, {"job", "a"}});
    p_.Add(4, Labels{{"__name__", "down"}, {"job", ""}, {"env", "prod"}});
    p_.Add(5, Labels{{"__name__", "x"}, {"job", "aa"}, {"instance", "foo\nbar"}});
  }
  MemPostings p_;
};

Matcher M(MatchType t, const char* name, const char* value) {
  return Matcher::Make(t, name, value).value();
}

TEST_F(MemPostingsTest, MatcherSemanticsTable) {
  const auto kEq = MatchType::kEqual, kNe = MatchType::kNotEqual, kRe = MatchType::kRegexMatch,
             kNre = MatchType::kRegexNoMatch;
  struct Case {
    std::vector<Matcher> matchers;
    PostingsList want;
  };
  const std::vector<Case> cases = {
      {{}, {1, 2, 3, 4, 5}},
      {{M(kEq, "__name__", "up")}, {1, 2, 3}},
      {{M(kEq, "job", "")}, {4}},
      {{M(kNe, "job", "")}, {1, 2, 3, 5}},
      {{M(kRe, "job", ".*")}, {1, 2, 3, 4, 5}},
      {{M(kRe, "job", ".+")}, {1, 2, 3, 5}},
      {{M(kNre, "job", "a")}, {2, 4, 5}},
      {{M(kNre, "job", "a|b")}, {4, 5}},
      {{M(kRe, "job", "a|b")}, {1, 2, 3}},
      {{M(kRe, "job", "a|")}, {1, 3, 4}},
      {{M(kRe, "job", "a.*")}, {1, 3, 5}},
      {{M(kNre, "job", ".*")}, {}},
      {{M(kNe, "instance", "1")}, {2, 3, 4, 5}},
      {{M(kRe, "instance", "foo.bar")}, {5}},
      {{M(kEq, "job", "a"), M(kEq, "instance", "")}, {3}},
      {{M(kEq, "nonexistent", "x")}, {}},
      {{M(kNe, "nonexistent", "x")}, {1, 2, 3, 4, 5}},
      {{M(kEq, "nonexistent", "")}, {1, 2, 3, 4, 5}},
      {{M(kEq, "__name__", "up"), M(kNre, "job", "a|b")}, {}},
      {{M(kEq, "__name__", "up"), M(kNe, "job", "a")}, {2}},
      {{M(kRe, "__name__", "up|down"), M(kRe, "env", "")}, {1, 2, 3}},
  };
  for (const auto& c : cases) {
    std::string desc;
    for (const auto& m : c.matchers) desc += m.ToString() + " ";
    EXPECT_EQ(p_.ForMatchers(c.matchers), c.want) << desc;
  }
}

TEST_F(MemPostingsTest, NamesValuesAndCounts) {
  EXPECT_EQ(p_.LabelNames(), (std::vector<std::string>{"__name__", "env", "instance", "job"}));
  EXPECT_EQ(p_.LabelValues("job"), (std::vector<std::string>{"a", "aa", "b"}));
  EXPECT_TRUE(p_.LabelValues("missing").empty());
  EXPECT_TRUE(p_.LabelValues("").empty());
  EXPECT_EQ(p_.ValueCount("__name__"), 3u);
  EXPECT_EQ(p_.All(), (PostingsList{1, 2, 3, 4, 5}));
  EXPECT_EQ(p_.Get("job", "a"), (PostingsList{1, 3}));
}

TEST_F(MemPostingsTest, Stats) {
  PostingsStats st = p_.Stats("__name__", 2);
  ASSERT_EQ(st.series_count_by_metric_name.size(), 2u);
  EXPECT_EQ(st.series_count_by_metric_name[0].name, "up");
  EXPECT_EQ(st.series_count_by_metric_name[0].count, 3u);
  EXPECT_EQ(st.series_count_by_metric_name[1].name, "down");  // ties by name
  ASSERT_EQ(st.label_value_count_by_label_name.size(), 2u);
  EXPECT_EQ(st.label_value_count_by_label_name[0].name, "__name__");
  EXPECT_EQ(st.label_value_count_by_label_name[0].count, 3u);
  EXPECT_EQ(st.label_value_count_by_label_name[1].name, "instance");
  EXPECT_EQ(st.series_count_by_label_value_pair[0].name, "__name__=up");
  EXPECT_EQ(st.num_label_pairs, 3u + 3u + 3u + 1u);
  // instance values: "1", "2", "foo\nbar" = 1 + 1 + 7 bytes.
  EXPECT_EQ(st.memory_in_bytes_by_label_name[0].name, "instance");
  EXPECT_EQ(st.memory_in_bytes_by_label_name[0].count, 9u);
}

TEST(MemPostingsConcurrencyTest, OutOfOrderAddsStaySorted) {
  MemPostings p;
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&p, w] {
      for (uint64_t i = 0; i < 2000; ++i) {
        uint64_t ref = i * 4 + static_cast<uint64_t>(w) + 1;
        p.Add(ref, Labels{{"__name__", "m"}, {"w", std::to_string(w)}});
      }
    });
  }
  for (auto& t : threads) t.join();
  PostingsList all = p.All();
  ASSERT_EQ(all.size(), 8000u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  EXPECT_EQ(p.Get("__name__", "m").size(), 8000u);
}

}  // namespace
}  // namespace kiln::tsdb

namespace kiln::tsdb {
namespace {

TEST(MemPostingsDeleteTest, RemovesRefsAndEmptiedValuesAndNames) {
  MemPostings p;
  const model::Labels a{{"__name__", "up"}, {"job", "a"}};
  const model::Labels b{{"__name__", "up"}, {"job", "b"}, {"env", "prod"}};
  const model::Labels c{{"__name__", "down"}, {"job", "a"}};
  p.Add(1, a);
  p.Add(2, b);
  p.Add(3, c);
  p.Delete({2, 3}, {&b, &c});
  EXPECT_EQ(p.All(), (PostingsList{1}));
  EXPECT_EQ(p.Get("__name__", "up"), (PostingsList{1}));
  EXPECT_EQ(p.Get("job", "a"), (PostingsList{1}));
  EXPECT_EQ(p.LabelValues("__name__"), std::vector<std::string>{"up"});
  EXPECT_EQ(p.LabelValues("job"), std::vector<std::string>{"a"});
  EXPECT_EQ(p.LabelNames(), (std::vector<std::string>{"__name__", "job"}));
  p.Delete({1}, {&a});
  EXPECT_TRUE(p.All().empty());
  EXPECT_TRUE(p.LabelNames().empty());
  // A ref added again after deletion is indexed afresh.
  p.Add(4, a);
  EXPECT_EQ(p.ForMatchers({model::Matcher::Make(model::MatchType::kEqual, "job", "a").value()}),
            (PostingsList{4}));
}

}  // namespace
}  // namespace kiln::tsdb
