#include "web/api/v1/layered_metadata.h"

namespace kiln::web::api::v1 {

namespace {

constexpr std::string_view kCounterSuffix = "_total";

}  // namespace

std::map<std::string, std::vector<model::Metadata>> LayeredMetadataSource::Metadata(
    std::string_view metric) {
  std::map<std::string, std::vector<model::Metadata>> out;
  if (primary_ != nullptr) out = primary_->Metadata(metric);
  if (secondary_ == nullptr) return out;
  // Asking the primary for "x_total" finds nothing when it knows the family as "x"; the
  // secondary must not answer for it then.
  if (!metric.empty() && out.empty() && primary_ != nullptr && metric.ends_with(kCounterSuffix)) {
    std::string_view base = metric.substr(0, metric.size() - kCounterSuffix.size());
    if (!primary_->Metadata(base).empty()) return out;
  }
  for (auto& [family, list] : secondary_->Metadata(metric)) {
    if (out.contains(family)) continue;
    if (family.ends_with(kCounterSuffix) &&
        out.contains(family.substr(0, family.size() - kCounterSuffix.size()))) {
      continue;
    }
    out.emplace(family, std::move(list));
  }
  return out;
}

}  // namespace kiln::web::api::v1
