// The block table `tsdb list` prints, shared with `tsdb create-blocks-from`, which lists the
// blocks it wrote the same way.
#pragma once

#include <string>
#include <vector>

#include "pkg/tsdb/block/meta.h"

namespace kiln::tool {

std::vector<std::string> BlockListHeader();
// One row: ulid, min/max time (ms, or Go UTC time strings when `human`), duration, samples,
// chunks, series, size (bytes, or Go base-2 units when `human`).
std::vector<std::string> BlockListRow(const tsdb::block::BlockMeta& m, uint64_t size, bool human);

}  // namespace kiln::tool
