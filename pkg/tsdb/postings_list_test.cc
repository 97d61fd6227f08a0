#include "pkg/tsdb/postings_list.h"

#include <gtest/gtest.h>

namespace kiln::tsdb {
namespace {

struct SetCase {
  PostingsList a, b;
  PostingsList intersect, merge, without;
};

TEST(PostingsListTest, TwoListTable) {
  const std::vector<SetCase> cases = {
      {{}, {}, {}, {}, {}},
      {{1, 2, 3}, {}, {}, {1, 2, 3}, {1, 2, 3}},
      {{}, {1, 2}, {}, {1, 2}, {}},
      {{1, 3, 5}, {2, 3, 4, 5}, {3, 5}, {1, 2, 3, 4, 5}, {1}},
      {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {}},
      {{10},
       {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
       {10},
       {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
       {}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IntersectPostings(c.a, c.b), c.intersect);
    EXPECT_EQ(IntersectPostings(c.b, c.a), c.intersect);
    EXPECT_EQ(MergePostings({c.a, c.b}), c.merge);
    EXPECT_EQ(WithoutPostings(c.a, c.b), c.without);
  }
}

TEST(PostingsListTest, GallopingIntersectMatchesLinear) {
  PostingsList large, small;
  for (uint64_t i = 0; i < 10000; i += 3) large.push_back(i);
  for (uint64_t i = 0; i < 10000; i += 997) small.push_back(i);
  PostingsList expected;
  for (uint64_t v : small) {
    if (v % 3 == 0) expected.push_back(v);
  }
  EXPECT_EQ(IntersectPostings(small, large), expected);
}

TEST(PostingsListTest, MergeManyDeduplicates) {
  EXPECT_EQ(MergePostings({{1, 4, 7}, {2, 4, 8}, {}, {4, 9}, {0}}),
            (PostingsList{0, 1, 2, 4, 7, 8, 9}));
  EXPECT_EQ(MergePostings({}), PostingsList{});
  EXPECT_EQ(MergePostings({{5, 6}}), (PostingsList{5, 6}));
}

}  // namespace
}  // namespace kiln::tsdb
