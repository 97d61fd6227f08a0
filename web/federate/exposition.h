// Writing federated samples in the exposition formats Prometheus's /federate speaks, chosen
// from the request's Accept header as Go's expfmt.Negotiate does:
//   text 0.0.4 (the default):  "# TYPE name untyped\nname{l="v",...} value timestamp_ms\n"
//   protobuf, delimited:       varint length + io.prometheus.client.MetricFamily per family
//     (Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;
//      encoding=delimited)
// Each series' labels are written in its own (sorted) order without __name__, then every
// external label it does not carry, by name, exactly as upstream assembles them.
// Thread-compatible (pure functions).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"

namespace kiln::web::federate {

enum class Format { kText, kProtoDelimited };

// Go's expfmt.Negotiate: the highest-quality acceptable media type wins; anything it does
// not know (including protobuf's text encodings, which Kiln does not write) means text.
Format NegotiateFormat(std::string_view accept);

// The Content-Type of `format`, spelled as Prometheus sends it.
std::string_view ContentType(Format format);

struct FederatedSample {
  model::Labels labels;
  int64_t t;  // ms
  double v;
};

// Writes `samples` (grouped by metric name: all samples of a name adjacent) as untyped metric
// families. Samples without a name are skipped.
std::string EncodeFamilies(Format format, const std::vector<FederatedSample>& samples,
                           const std::map<std::string, std::string>& external_labels);

}  // namespace kiln::web::federate
