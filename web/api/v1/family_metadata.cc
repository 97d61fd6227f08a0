#include "web/api/v1/family_metadata.h"

#include <algorithm>

namespace kiln::web::api::v1 {

void FamilyMetadataStore::Record(std::string_view family, const model::Metadata& md) {
  if (family.empty()) return;
  std::lock_guard lock(mu_);
  auto it = families_.find(family);
  if (it == families_.end()) {
    if (families_.size() >= kMaxFamilies) return;
    it = families_.emplace(std::string(family), std::vector<model::Metadata>{}).first;
  }
  std::vector<model::Metadata>& list = it->second;
  if (std::find(list.begin(), list.end(), md) != list.end()) return;
  if (list.size() >= kMaxPerFamily) list.erase(list.begin());  // the oldest goes
  list.push_back(md);
}

std::map<std::string, std::vector<model::Metadata>> FamilyMetadataStore::Metadata(
    std::string_view metric) {
  std::map<std::string, std::vector<model::Metadata>> out;
  if (also_ != nullptr) out = also_->Metadata(metric);
  auto merge = [&out](const std::string& name, const std::vector<model::Metadata>& list) {
    std::vector<model::Metadata>& dst = out[name];
    for (const model::Metadata& md : list) {
      if (std::find(dst.begin(), dst.end(), md) == dst.end()) dst.push_back(md);
    }
  };
  std::lock_guard lock(mu_);
  if (!metric.empty()) {
    if (auto it = families_.find(metric); it != families_.end()) merge(it->first, it->second);
    return out;
  }
  for (const auto& [name, list] : families_) merge(name, list);
  return out;
}

}  // namespace kiln::web::api::v1
