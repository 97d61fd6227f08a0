// /api/v1/metadata from two sources in order of authority. Prometheus answers from its
// scrape targets' metadata, named as the `# TYPE` line names the family (an OpenMetrics
// counter `x` has series `x_total`). Kiln also keeps metadata per stored series (remote
// write 2.0, WAL replay before the first scrape), whose family name is derived from the
// series name and so can differ for the same family. The secondary source only adds
// families the primary does not know, under either name.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

class LayeredMetadataSource final : public MetadataSource {
 public:
  // Both must outlive this object; either may be null.
  LayeredMetadataSource(MetadataSource* primary, MetadataSource* secondary)
      : primary_(primary), secondary_(secondary) {}

  std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) override;

 private:
  MetadataSource* const primary_;
  MetadataSource* const secondary_;
};

}  // namespace kiln::web::api::v1
