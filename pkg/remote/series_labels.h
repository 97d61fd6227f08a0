// Turning the label pairs of a received series into model::Labels, with the checks upstream
// Prometheus's remote write receiver applies.
#pragma once

#include <vector>

#include "pkg/model/labels.h"
#include "pkg/util/result.h"

namespace kiln::remote {

// Builds a series' labels from received pairs; pairs with an empty value are dropped, as an
// empty value means "no such label". Errors (kBadData, one line, upstream's wording where
// upstream has the check): missing or empty metric name, a name or value that is not valid
// UTF-8, an empty label name, a duplicated label name, and label names not sorted.
//
// Sorting: both remote write specs say senders MUST sort label names. Upstream Prometheus
// sorts silently instead of checking; Kiln rejects unsorted input with 400 (issue 2), which
// turns a sender bug into a visible error instead of a silently different series identity
// for receivers that do not sort. Every known sender (Prometheus, Agent/Alloy, the OTel
// exporter) sorts.
Result<model::Labels> BuildSeriesLabels(std::vector<model::LabelView>* pairs);

}  // namespace kiln::remote
