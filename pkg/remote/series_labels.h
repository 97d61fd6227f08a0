// Turning the label pairs of a received series into model::Labels, with the checks upstream
// Prometheus's remote write receiver applies.
#pragma once

#include <vector>

#include "pkg/model/labels.h"
#include "pkg/util/result.h"

namespace kiln::remote {

// Builds a series' labels from received pairs. `pairs` is sorted in place by name (senders
// must sort, but upstream tolerates unsorted input, and so do we); pairs with an empty value
// are dropped, as an empty value means "no such label". Errors (kBadData, one line, same
// wording as upstream): missing or empty metric name, a name or value that is not valid
// UTF-8, an empty label name, a duplicated label name.
Result<model::Labels> BuildSeriesLabels(std::vector<model::LabelView>* pairs);

// Whether `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace kiln::remote
