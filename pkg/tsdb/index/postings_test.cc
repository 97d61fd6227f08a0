#include "pkg/tsdb/index/postings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>

#include "pkg/util/coding.h"

namespace kiln::tsdb::index {
namespace {

std::vector<uint64_t> RandomSorted(std::mt19937_64& rng, size_t n, uint64_t range) {
  std::set<uint64_t> s;
  while (s.size() < n && s.size() < range) s.insert(rng() % range);
  return {s.begin(), s.end()};
}

std::vector<uint64_t> Expand(std::unique_ptr<Postings> p) {
  auto r = ExpandPostings(p.get());
  EXPECT_TRUE(r.ok());
  return r.value_or({});
}

// The three ways to build a leaf iterator must behave identically.
std::unique_ptr<Postings> Leaf(const std::vector<uint64_t>& v, int kind,
                               std::vector<std::string>* keep) {
  switch (kind % 3) {
    case 0:
      return NewListPostings(v);
    case 1:
      return NewSpanPostings(v);
    default: {
      keep->emplace_back();
      for (uint64_t x : v) PutBE32(&keep->back(), static_cast<uint32_t>(x));
      return NewBigEndianPostings(keep->back());
    }
  }
}

TEST(PostingsTest, SetOperationsMatchStdAlgorithms) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 300; round++) {
    const int k = 1 + static_cast<int>(rng() % 4);
    const uint64_t range = 1 + rng() % 200;
    std::vector<std::vector<uint64_t>> sets;
    for (int i = 0; i < k; i++) sets.push_back(RandomSorted(rng, rng() % 80, range));
    std::vector<std::string> keep;
    keep.reserve(16);

    std::vector<uint64_t> inter = sets[0], uni = sets[0];
    for (int i = 1; i < k; i++) {
      std::vector<uint64_t> a, b;
      std::set_intersection(inter.begin(), inter.end(), sets[i].begin(), sets[i].end(),
                            std::back_inserter(a));
      std::set_union(uni.begin(), uni.end(), sets[i].begin(), sets[i].end(), std::back_inserter(b));
      inter = a;
      uni = b;
    }
    std::vector<std::unique_ptr<Postings>> a, b;
    for (int i = 0; i < k; i++) a.push_back(Leaf(sets[i], round + i, &keep));
    for (int i = 0; i < k; i++) b.push_back(Leaf(sets[i], round + i + 1, &keep));
    EXPECT_EQ(Expand(Intersect(std::move(a))), inter) << round;
    EXPECT_EQ(Expand(Merge(std::move(b))), uni) << round;

    std::vector<uint64_t> diff;
    const auto& drop = sets[k - 1];
    std::set_difference(sets[0].begin(), sets[0].end(), drop.begin(), drop.end(),
                        std::back_inserter(diff));
    EXPECT_EQ(Expand(Without(Leaf(sets[0], round, &keep), Leaf(drop, round + 2, &keep))), diff);
  }
}

TEST(PostingsTest, SeekNeverMovesBackAndMatchesLowerBound) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; round++) {
    const auto a = RandomSorted(rng, 60, 300), b = RandomSorted(rng, 60, 300);
    std::vector<uint64_t> uni;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(uni));
    std::vector<std::unique_ptr<Postings>> its;
    its.push_back(NewListPostings(a));
    its.push_back(NewListPostings(b));
    auto m = Merge(std::move(its));
    auto l = NewListPostings(uni);
    uint64_t target = 0;
    while (true) {
      target += rng() % 20;
      const bool ml = m->Seek(target), ll = l->Seek(target);
      ASSERT_EQ(ml, ll);
      if (!ml) break;
      ASSERT_EQ(m->At(), l->At());
      ASSERT_GE(m->At(), target);
      if (rng() % 2) {
        const bool mn = m->Next();
        ASSERT_EQ(mn, l->Next());
        if (!mn) break;
        ASSERT_EQ(m->At(), l->At());
      }
    }
  }
}

TEST(PostingsTest, EdgeCases) {
  EXPECT_TRUE(Expand(Intersect({})).empty());
  EXPECT_TRUE(Expand(Merge({})).empty());
  auto e = ErrorPostings(Status::Corruption("boom"));
  EXPECT_FALSE(e->Next());
  EXPECT_TRUE(e->err().Is(StatusCode::kCorruption));
  std::vector<std::unique_ptr<Postings>> its;
  its.push_back(NewListPostings({1, 2, 3}));
  its.push_back(ErrorPostings(Status::IOError("disk")));
  auto i = Intersect(std::move(its));
  EXPECT_FALSE(ExpandPostings(i.get()).ok());
  auto l = NewListPostings({5, 10});
  EXPECT_TRUE(l->Seek(7));
  EXPECT_EQ(l->At(), 10u);
  EXPECT_TRUE(l->Seek(3));  // stays put
  EXPECT_EQ(l->At(), 10u);
  EXPECT_FALSE(l->Next());
  EXPECT_FALSE(l->Next());
  EXPECT_FALSE(l->Seek(1));
}

}  // namespace
}  // namespace kiln::tsdb::index
