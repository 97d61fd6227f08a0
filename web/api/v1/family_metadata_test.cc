#include "web/api/v1/family_metadata.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace kiln::web::api::v1 {
namespace {

using model::Metadata;
using model::MetricType;

// A per-series source with fixed contents, standing in for SeriesMetadataSource.
class FixedSource final : public MetadataSource {
 public:
  std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) override {
    std::map<std::string, std::vector<model::Metadata>> out;
    if (metric.empty() || metric == "scraped") {
      out["scraped"] = {{MetricType::kGauge, "From a scrape.", ""}};
    }
    if (metric.empty() || metric == "both") out["both"] = {{MetricType::kCounter, "Same.", ""}};
    return out;
  }
};

TEST(FamilyMetadataStoreTest, RecordsFamiliesAndMergesWithSeriesSource) {
  FixedSource series;
  FamilyMetadataStore store(&series);
  const Metadata hist{MetricType::kHistogram, "Latency.", "seconds"};
  store.Record("latency_seconds", hist);
  store.Record("latency_seconds", hist);  // resent every interval: listed once
  store.Record("both", {MetricType::kCounter, "Same.", ""});
  store.Record("both", {MetricType::kCounter, "Other help.", ""});
  store.Record("", hist);  // no family name: ignored

  auto all = store.Metadata("");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all["latency_seconds"], std::vector<Metadata>{hist});
  EXPECT_EQ(all["scraped"].size(), 1u);
  // The series source's entry first, then the one it did not have.
  ASSERT_EQ(all["both"].size(), 2u);
  EXPECT_EQ(all["both"][0].help, "Same.");
  EXPECT_EQ(all["both"][1].help, "Other help.");

  auto one = store.Metadata("latency_seconds");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.begin()->first, "latency_seconds");
  EXPECT_TRUE(store.Metadata("latency").empty());  // families match exactly
}

TEST(FamilyMetadataStoreTest, KeepsTheNewestEntriesPerFamily) {
  FamilyMetadataStore store(nullptr);
  for (size_t i = 0; i < FamilyMetadataStore::kMaxPerFamily + 3; ++i) {
    store.Record("f", {MetricType::kGauge, "help " + std::to_string(i), ""});
  }
  auto list = store.Metadata("f")["f"];
  ASSERT_EQ(list.size(), FamilyMetadataStore::kMaxPerFamily);
  EXPECT_EQ(list.front().help, "help 3");
  EXPECT_EQ(list.back().help, "help " + std::to_string(FamilyMetadataStore::kMaxPerFamily + 2));
}

TEST(FamilyMetadataStoreTest, ConcurrentRecordAndRead) {
  FamilyMetadataStore store(nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 500; ++i) {
        store.Record("family_" + std::to_string(i % 50), {MetricType::kGauge, "h", ""});
        if (i % 10 == t) store.Metadata("");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store.Metadata("").size(), 50u);
}

}  // namespace
}  // namespace kiln::web::api::v1
