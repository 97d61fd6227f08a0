#include "pkg/tsdb/stripe_series.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kiln::tsdb {
namespace {

model::Labels Series(int i) { return model::Labels{{"__name__", "m"}, {"i", std::to_string(i)}}; }

// Refs are looked up in per-stripe arrays sorted by ref; WAL replay creates series in any ref
// order, and head GC removes them from the middle, so both must keep every lookup exact.
TEST(StripeSeriesTest, LookupsStayExactWithOutOfOrderRefsAndGc) {
  StripeSeries s(2);  // few stripes: many refs share one
  const uint64_t refs[] = {40, 2, 18, 4, 100, 6, 22, 8, 1, 3};
  for (size_t i = 0; i < std::size(refs); ++i) {
    bool created = false;
    const model::Labels l = Series(static_cast<int>(i));
    MemSeries* m = s.GetOrCreate(
        l.Hash(), l, [&] { return refs[i]; }, &created);
    ASSERT_TRUE(created);
    EXPECT_EQ(m->ref(), refs[i]);
  }
  for (size_t i = 0; i < std::size(refs); ++i) {
    MemSeries* m = s.GetByRef(refs[i]);
    ASSERT_NE(m, nullptr) << refs[i];
    EXPECT_EQ(m->labels(), Series(static_cast<int>(i)));
  }
  for (uint64_t absent : {0u, 5u, 7u, 20u, 41u, 99u, 101u}) EXPECT_EQ(s.GetByRef(absent), nullptr);

  // Collect the refs divisible by 4 (from the front, middle and end of the arrays).
  auto gone = s.Gc([](const MemSeries& m) { return m.ref() % 4 == 0; });
  std::set<uint64_t> gone_refs;
  for (const auto& m : gone) gone_refs.insert(m->ref());
  EXPECT_EQ(gone_refs, (std::set<uint64_t>{40, 4, 100, 8}));
  std::set<uint64_t> left;
  s.ForEach([&](MemSeries* m) { left.insert(m->ref()); });
  EXPECT_EQ(left, (std::set<uint64_t>{1, 2, 3, 6, 18, 22}));
  for (size_t i = 0; i < std::size(refs); ++i) {
    MemSeries* m = s.GetByRef(refs[i]);
    if (gone_refs.count(refs[i]) != 0) {
      EXPECT_EQ(m, nullptr) << refs[i];
      const model::Labels l = Series(static_cast<int>(i));
      EXPECT_EQ(s.GetByHash(l.Hash(), l), nullptr);
    } else {
      ASSERT_NE(m, nullptr) << refs[i];
      EXPECT_EQ(m->labels(), Series(static_cast<int>(i)));
    }
  }
  // A series created again after GC gets a new ref and is found by it.
  bool created = false;
  const model::Labels l = Series(0);
  MemSeries* again = s.GetOrCreate(
      l.Hash(), l, [] { return uint64_t{41}; }, &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(s.GetByRef(41), again);
  EXPECT_EQ(s.GetByRef(40), nullptr);
}

}  // namespace
}  // namespace kiln::tsdb
