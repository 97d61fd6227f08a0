#include "pkg/tsdb/block/merge.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "pkg/storage/series_list.h"

namespace kiln::tsdb::block {
namespace {

using Samples = std::vector<model::Sample>;
using Input = std::vector<std::pair<std::string, Samples>>;  // value of label "a", samples

std::unique_ptr<storage::SeriesSet> SetOf(const Input& in) {
  std::vector<std::unique_ptr<storage::Series>> v;
  for (const auto& [a, s] : in) {
    v.push_back(std::make_unique<storage::VectorSeries>(model::Labels{{"a", a}}, s));
  }
  return std::make_unique<storage::VectorSeriesSet>(std::move(v));
}

struct MergeCase {
  const char* name;
  std::vector<Input> inputs;
  Input want;
};

TEST(MergeTest, SeriesSetsTable) {
  const std::vector<MergeCase> cases = {
      {"none", {}, {}},
      {"one", {{{"x", {{1, 1}}}}}, {{"x", {{1, 1}}}}},
      {"disjoint series",
       {{{"a", {{1, 1}}}, {"c", {{1, 3}}}}, {{"b", {{1, 2}}}, {"d", {{1, 4}}}}},
       {{"a", {{1, 1}}}, {"b", {{1, 2}}}, {"c", {{1, 3}}}, {"d", {{1, 4}}}}},
      {"interleaved samples",
       {{{"a", {{1, 1}, {3, 3}}}}, {{"a", {{2, 2}, {4, 4}}}}},
       {{"a", {{1, 1}, {2, 2}, {3, 3}, {4, 4}}}}},
      {"duplicates once, first source wins",
       {{{"a", {{1, 1}, {2, 2}}}}, {{"a", {{2, 20}, {3, 3}}}}, {{"a", {{2, 200}}}}},
       {{"a", {{1, 1}, {2, 2}, {3, 3}}}}},
      {"one input empty", {{}, {{"a", {{5, 5}}}}}, {{"a", {{5, 5}}}}},
  };
  for (const auto& c : cases) {
    std::vector<std::unique_ptr<storage::SeriesSet>> sets;
    for (const auto& in : c.inputs) sets.push_back(SetOf(in));
    auto merged = MergeSeriesSets(std::move(sets));
    Input got;
    while (merged->Next()) {
      Samples s;
      auto it = merged->At().Iterator();
      while (it->Next() != chunkenc::ValueType::kNone)
        s.push_back({it->At().first, it->At().second});
      got.emplace_back(std::string(merged->At().labels().Get("a")), s);
    }
    EXPECT_TRUE(merged->err().ok());
    ASSERT_EQ(got.size(), c.want.size()) << c.name;
    for (size_t i = 0; i < got.size(); i++) {
      EXPECT_EQ(got[i].first, c.want[i].first) << c.name;
      ASSERT_EQ(got[i].second.size(), c.want[i].second.size()) << c.name;
      for (size_t j = 0; j < got[i].second.size(); j++) {
        EXPECT_EQ(got[i].second[j].t, c.want[i].second[j].t) << c.name;
        EXPECT_EQ(got[i].second[j].v, c.want[i].second[j].v) << c.name;
      }
    }
  }
}

TEST(MergeTest, IteratorSeek) {
  auto mk = [](Samples s) {
    return std::make_unique<storage::SampleVectorIterator>(
        std::make_shared<const Samples>(std::move(s)));
  };
  std::vector<std::unique_ptr<chunkenc::Iterator>> its;
  its.push_back(mk({{1, 1}, {5, 5}, {9, 9}}));
  its.push_back(mk({{2, 2}, {5, 50}, {7, 7}}));
  auto it = MergeIterators(std::move(its));
  ASSERT_EQ(it->Seek(3), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->At(), (std::pair<int64_t, double>{5, 5}));
  ASSERT_EQ(it->Seek(4), chunkenc::ValueType::kFloat);  // stays
  EXPECT_EQ(it->AtT(), 5);
  ASSERT_EQ(it->Next(), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->AtT(), 7);
  ASSERT_EQ(it->Seek(8), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->AtT(), 9);
  EXPECT_EQ(it->Next(), chunkenc::ValueType::kNone);
  EXPECT_EQ(it->Seek(1), chunkenc::ValueType::kNone);
}

// Random sources (runs of consecutive samples as blocks hold them, overlapping or not, with
// shared timestamps) against a reference merge: ascending, each timestamp once, the first
// source holding it wins. Seeks land anywhere, also before the current sample.
TEST(MergeTest, IteratorMatchesReferenceMerge) {
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    const int sources = 1 + static_cast<int>(rng() % 4);
    std::vector<Samples> in(static_cast<size_t>(sources));
    std::map<int64_t, double> want;
    for (int s = 0; s < sources; ++s) {
      int64_t t = static_cast<int64_t>(rng() % 40);
      const int n = static_cast<int>(rng() % 30);
      for (int k = 0; k < n; ++k) {
        t += 1 + static_cast<int64_t>(rng() % 3);
        const double v = s * 1000 + static_cast<double>(t);
        in[static_cast<size_t>(s)].push_back({t, v});
        want.emplace(t, v);  // keeps the earlier source's value
      }
    }
    std::vector<std::unique_ptr<chunkenc::Iterator>> its;
    for (const auto& samples : in) {
      its.push_back(std::make_unique<storage::SampleVectorIterator>(
          std::make_shared<const Samples>(samples)));
    }
    auto it = MergeIterators(std::move(its));
    auto next = want.begin();
    chunkenc::ValueType vt = it->Next();
    while (next != want.end()) {
      ASSERT_EQ(vt, chunkenc::ValueType::kFloat) << "round " << round;
      ASSERT_EQ(it->At(), (std::pair<int64_t, double>{next->first, next->second}))
          << "round " << round;
      if (rng() % 5 == 0) {
        const int64_t target = next->first - 2 + static_cast<int64_t>(rng() % 8);
        vt = it->Seek(target);
        // Seek never moves backwards.
        next = want.lower_bound(std::max(target, next->first));
      } else {
        vt = it->Next();
        ++next;
      }
    }
    EXPECT_EQ(vt, chunkenc::ValueType::kNone) << "round " << round;
  }
}

}  // namespace
}  // namespace kiln::tsdb::block
