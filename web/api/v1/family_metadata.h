// Metric family metadata as remote_write 1.0 senders send it. Prometheus ships its targets'
// metadata (metadata_config) in requests of their own, without samples, keyed by metric
// family name ("http_request_duration_seconds" for the _bucket/_sum/_count series), so it
// cannot be attached to stored series the way scraped or 2.0 metadata is. This store keeps
// it per family and answers /api/v1/metadata together with a per-series source.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/metadata.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

class FamilyMetadataStore final : public MetadataSource {
 public:
  // Senders repeat their metadata every send interval; a family keeps the last
  // kMaxPerFamily distinct entries (several targets may disagree on help texts), and at most
  // kMaxFamilies families are kept so a misbehaving sender cannot grow the store unbounded.
  static constexpr size_t kMaxPerFamily = 16;
  static constexpr size_t kMaxFamilies = 1 << 20;

  // `also` (may be null) is merged into every answer; it must outlive the store.
  explicit FamilyMetadataStore(MetadataSource* also) : also_(also) {}

  // Records one family's metadata; an empty family name is ignored. Thread-safe.
  void Record(std::string_view family, const model::Metadata& md);

  // `also`'s answer plus the recorded families, each list without duplicates.
  std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) override;

 private:
  MetadataSource* const also_;
  std::mutex mu_;
  std::map<std::string, std::vector<model::Metadata>, std::less<>> families_;  // guarded by mu_
};

}  // namespace kiln::web::api::v1
