#include "web/api/v1/layered_metadata.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::web::api::v1 {
namespace {

using model::Metadata;
using model::MetricType;
using Families = std::map<std::string, std::vector<Metadata>>;

// A source answering from a fixed table, by exact family name.
class TableSource final : public MetadataSource {
 public:
  explicit TableSource(Families families) : families_(std::move(families)) {}
  Families Metadata(std::string_view metric) override {
    if (metric.empty()) return families_;
    Families out;
    if (auto it = families_.find(std::string(metric)); it != families_.end()) out.insert(*it);
    return out;
  }

 private:
  Families families_;
};

const Metadata kOmCounter{MetricType::kCounter, "Items shipped.", ""};
const Metadata kGauge{MetricType::kGauge, "Temperature.", "celsius"};
const Metadata kOtherGauge{MetricType::kGauge, "Written by remote write 2.0.", ""};

struct LayeredCase {
  std::string name;
  std::string metric;
  Families want;
};

TEST(LayeredMetadataSourceTest, PrimaryNamesWinAndSecondaryFillsGaps) {
  // The scrape targets know the OpenMetrics counter family "items_shipped"; the stored
  // series call it "items_shipped_total".
  TableSource targets({{"items_shipped", {kOmCounter}}, {"temp", {kGauge}}});
  TableSource series({{"items_shipped_total", {kOmCounter}},
                      {"temp", {{MetricType::kGauge, "Older help.", ""}}},
                      {"rw2_metric", {kOtherGauge}}});
  LayeredMetadataSource layered(&targets, &series);
  const std::vector<LayeredCase> cases = {
      {"all",
       "",
       {{"items_shipped", {kOmCounter}}, {"temp", {kGauge}}, {"rw2_metric", {kOtherGauge}}}},
      {"family by its target name", "items_shipped", {{"items_shipped", {kOmCounter}}}},
      {"series name of a known counter family", "items_shipped_total", {}},
      {"primary wins on the same name", "temp", {{"temp", {kGauge}}}},
      {"only in the series", "rw2_metric", {{"rw2_metric", {kOtherGauge}}}},
      {"unknown", "nope", {}},
  };
  for (const LayeredCase& c : cases) {
    EXPECT_EQ(layered.Metadata(c.metric), c.want) << c.name;
  }
}

TEST(LayeredMetadataSourceTest, EitherSourceMayBeMissing) {
  TableSource series({{"a_total", {kOmCounter}}});
  EXPECT_EQ(LayeredMetadataSource(nullptr, &series).Metadata(""), series.Metadata(""));
  EXPECT_EQ(LayeredMetadataSource(&series, nullptr).Metadata("a_total"),
            series.Metadata("a_total"));
  EXPECT_TRUE(LayeredMetadataSource(nullptr, nullptr).Metadata("").empty());
}

}  // namespace
}  // namespace kiln::web::api::v1
