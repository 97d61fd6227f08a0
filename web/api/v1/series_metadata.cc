#include "web/api/v1/series_metadata.h"

#include <algorithm>
#include <array>
#include <limits>

namespace kiln::web::api::v1 {

namespace {

// Suffixes a metric type adds to its family name: Prometheus's /api/v1/metadata lists a
// histogram under "x", not under its series "x_bucket", "x_sum" and "x_count".
std::span<const std::string_view> TypeSuffixes(model::MetricType type) {
  static constexpr std::array<std::string_view, 4> kHistogram = {"_bucket", "_sum", "_count",
                                                                 "_created"};
  static constexpr std::array<std::string_view, 3> kSummary = {"_sum", "_count", "_created"};
  static constexpr std::array<std::string_view, 3> kGaugeHistogram = {"_bucket", "_gsum",
                                                                      "_gcount"};
  switch (type) {
    case model::MetricType::kHistogram:
      return kHistogram;
    case model::MetricType::kSummary:
      return kSummary;
    case model::MetricType::kGaugeHistogram:
      return kGaugeHistogram;
    default:
      return {};
  }
}

// Every suffix any type adds, for finding a family's series by name.
constexpr std::array<std::string_view, 7> kAllSuffixes = {"",         "_bucket", "_sum",   "_count",
                                                          "_created", "_gsum",   "_gcount"};

}  // namespace

std::string_view SeriesMetadataSource::FamilyName(std::string_view series_name,
                                                  model::MetricType type) {
  for (std::string_view suffix : TypeSuffixes(type)) {
    if (series_name.size() > suffix.size() && series_name.ends_with(suffix)) {
      return series_name.substr(0, series_name.size() - suffix.size());
    }
  }
  return series_name;
}

std::map<std::string, std::vector<model::Metadata>> SeriesMetadataSource::Metadata(
    std::string_view metric) {
  std::map<std::string, std::vector<model::Metadata>> out;
  auto q = queryable_->NewQuerier(std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max());
  if (!q.ok()) return out;
  std::vector<model::Matcher> selects;
  if (metric.empty()) {
    auto m = model::Matcher::Make(model::MatchType::kRegexMatch, model::kMetricName, ".+");
    if (!m.ok()) return out;
    selects.push_back(*m);
  } else {
    // A family's series carry its name plus a type suffix; which suffixes count depends on
    // the type each series records, checked below.
    for (std::string_view suffix : kAllSuffixes) {
      auto m = model::Matcher::Make(model::MatchType::kEqual, model::kMetricName,
                                    std::string(metric) + std::string(suffix));
      if (!m.ok()) return out;
      selects.push_back(*m);
    }
  }
  storage::SelectHints hints;
  hints.func = "series";  // labels only
  model::Metadata md;
  for (const model::Matcher& m : selects) {
    auto set = (*q)->Select(false, &hints, {m});
    while (set->Next()) {
      const model::Labels& ls = set->At().labels();
      if (!lookup_(ls, &md)) continue;
      const std::string_view family = FamilyName(ls.MetricName(), md.type);
      if (!metric.empty() && family != metric) continue;
      auto& list = out[std::string(family)];
      if (std::find(list.begin(), list.end(), md) == list.end()) list.push_back(md);
    }
  }
  return out;
}

}  // namespace kiln::web::api::v1
