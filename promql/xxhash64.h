// XXH64 (seed 0), the hash Prometheus uses for label sets (labels.Hash): limit_ratio()
// depends on its exact values to pick the same series Prometheus would.
#pragma once

#include <cstdint>
#include <string_view>

#include "pkg/model/labels.h"

namespace kiln::promql {

uint64_t XxHash64(std::string_view data);

// Prometheus's labels.Hash(): XXH64 over name 0xff value 0xff … in label order.
uint64_t PrometheusLabelsHash(const model::Labels& ls);

}  // namespace kiln::promql
