// Whole-file helpers for the small files of a block (meta.json, tombstones).
#pragma once

#include <string>
#include <string_view>

#include "pkg/util/result.h"

namespace kiln::tsdb::block {

Result<std::string> ReadWholeFile(const std::string& path);

// Writes `data` to `path`.tmp, fsyncs it, renames it to `path` and fsyncs the directory, so
// readers see either the old file or the complete new one.
Status WriteFileAtomic(const std::string& path, std::string_view data);

}  // namespace kiln::tsdb::block
