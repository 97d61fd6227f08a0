// BlockMeta: a block's meta.json, read and written as upstream's tsdb.BlockMeta (tab-indented
// JSON, keys in upstream's order, empty optional fields omitted), so Prometheus and Kiln
// read each other's blocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pkg/util/result.h"

namespace kiln::tsdb::block {

inline constexpr int kMetaVersion1 = 1;
inline constexpr char kMetaFilename[] = "meta.json";

struct BlockDesc {
  std::string ulid;
  int64_t min_time = 0;
  int64_t max_time = 0;
};

struct BlockStats {
  uint64_t num_samples = 0;
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  uint64_t num_tombstones = 0;
};

struct BlockMetaCompaction {
  int level = 1;
  std::vector<std::string> sources;  // ULIDs of the level-1 blocks this one descends from
  bool deletable = false;            // set on a source block once its data moved elsewhere
  std::vector<BlockDesc> parents;
  bool failed = false;
};

// Time range [min_time, max_time): max_time is exclusive, as upstream.
struct BlockMeta {
  std::string ulid;
  int64_t min_time = 0;
  int64_t max_time = 0;
  BlockStats stats;
  BlockMetaCompaction compaction;
  int version = kMetaVersion1;

  bool Overlaps(int64_t mint, int64_t maxt_inclusive) const {
    return min_time <= maxt_inclusive && mint < max_time;
  }
};

// The JSON text exactly as upstream writes it.
std::string MetaToJson(const BlockMeta& meta);
Result<BlockMeta> MetaFromJson(std::string_view json);

// Reads <dir>/meta.json; BadData for an unknown version.
Result<BlockMeta> ReadMeta(const std::string& dir);
// Writes <dir>/meta.json through a temporary file, fsynced and renamed into place.
Status WriteMeta(const std::string& dir, const BlockMeta& meta);

}  // namespace kiln::tsdb::block
