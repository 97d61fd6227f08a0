#include "pkg/storage/series_list.h"

#include <gtest/gtest.h>

namespace kiln::storage {
namespace {

TEST(SampleVectorIteratorTest, NextAndSeek) {
  VectorSeries s(model::Labels{{"__name__", "x"}}, {{10, 1}, {20, 2}, {30, 3}});
  auto it = s.Iterator();
  EXPECT_EQ(it->Seek(15), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->At().first, 20);
  EXPECT_EQ(it->Seek(5), chunkenc::ValueType::kFloat);  // never moves backwards
  EXPECT_EQ(it->At().first, 20);
  EXPECT_EQ(it->Next(), chunkenc::ValueType::kFloat);
  EXPECT_EQ(it->At(), (std::pair<int64_t, double>{30, 3}));
  EXPECT_EQ(it->Next(), chunkenc::ValueType::kNone);
  EXPECT_EQ(it->Seek(0), chunkenc::ValueType::kNone);
}

TEST(VectorSeriesSetTest, IteratesInOrder) {
  std::vector<std::unique_ptr<Series>> v;
  v.push_back(std::make_unique<VectorSeries>(model::Labels{{"a", "1"}}, std::vector<model::Sample>{}));
  v.push_back(std::make_unique<VectorSeries>(model::Labels{{"a", "2"}}, std::vector<model::Sample>{}));
  VectorSeriesSet set(std::move(v));
  ASSERT_TRUE(set.Next());
  EXPECT_EQ(set.At().labels().Get("a"), "1");
  ASSERT_TRUE(set.Next());
  EXPECT_EQ(set.At().labels().Get("a"), "2");
  EXPECT_FALSE(set.Next());
  EXPECT_TRUE(set.err().ok());
}

}  // namespace
}  // namespace kiln::storage
