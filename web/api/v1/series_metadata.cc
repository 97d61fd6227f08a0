#include "web/api/v1/series_metadata.h"

#include <algorithm>
#include <limits>

namespace kiln::web::api::v1 {

std::map<std::string, std::vector<model::Metadata>> SeriesMetadataSource::Metadata(
    std::string_view metric) {
  std::map<std::string, std::vector<model::Metadata>> out;
  auto q = queryable_->NewQuerier(std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max());
  if (!q.ok()) return out;
  auto m = metric.empty()
               ? model::Matcher::Make(model::MatchType::kRegexMatch, model::kMetricName, ".+")
               : model::Matcher::Make(model::MatchType::kEqual, model::kMetricName, metric);
  if (!m.ok()) return out;
  storage::SelectHints hints;
  hints.func = "series";  // labels only
  auto set = (*q)->Select(false, &hints, {*m});
  model::Metadata md;
  while (set->Next()) {
    const model::Labels& ls = set->At().labels();
    if (!lookup_(ls, &md)) continue;
    auto& list = out[std::string(ls.MetricName())];
    if (std::find(list.begin(), list.end(), md) == list.end()) list.push_back(md);
  }
  return out;
}

}  // namespace kiln::web::api::v1
