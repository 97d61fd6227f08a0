// A MetadataSource over per-series metadata (what remote_write and scrapes record in the
// TSDB head): walks the series of a Queryable and groups their metadata by metric family.
// Thread-safe when the Queryable and the lookup are.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/storage/querier.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

class SeriesMetadataSource final : public MetadataSource {
 public:
  // Finds the metadata recorded for a series; false when there is none. For the head:
  // [&head](const auto& ls, auto* md) { return head.GetMetadata(ls, md); }.
  using Lookup = std::function<bool(const model::Labels&, model::Metadata*)>;

  // `queryable` must outlive this object.
  SeriesMetadataSource(storage::Queryable* queryable, Lookup lookup)
      : queryable_(queryable), lookup_(std::move(lookup)) {}

  // Distinct (type, help, unit) per metric family, in first-seen order; series without
  // metadata are skipped. A histogram's, summary's or gauge histogram's series are listed
  // under their family name, as Prometheus lists scraped metadata. Cost: one pass over the
  // matching series.
  std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) override;

  // The family a series belongs to: its name without the suffix its type adds
  // ("x_bucket" of a histogram → "x"); other types keep the name.
  static std::string_view FamilyName(std::string_view series_name, model::MetricType type);

 private:
  storage::Queryable* queryable_;
  Lookup lookup_;
};

}  // namespace kiln::web::api::v1
