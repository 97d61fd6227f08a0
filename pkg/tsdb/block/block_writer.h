// WriteBlock: persists series into a new block directory in Prometheus's format (index v2,
// chunk segments, meta.json, tombstones).
//
// Crash safety: everything is written under "<parent>/<ulid>.tmp-for-creation", fsynced, and
// only then renamed to "<parent>/<ulid>" (and the parent fsynced). A crash leaves at most a
// tmp directory, which loaders ignore and DB::Open removes; it never leaves a half block
// under a block name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/tsdb/block/meta.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::block {

inline constexpr char kTmpForCreationSuffix[] = ".tmp-for-creation";
inline constexpr char kTmpForDeletionSuffix[] = ".tmp-for-deletion";
// Samples per chunk the head aims at, as upstream's.
inline constexpr int kSamplesPerChunk = 120;

struct BlockWriteOptions {
  // Compaction level and lineage of the new block. Empty sources mean "this block itself".
  int level = 1;
  std::vector<std::string> sources;
  std::vector<BlockDesc> parents;
  // Chunks never span a multiple of this (the head's chunk range, the 2h block length).
  int64_t chunk_range = 2 * 3600 * 1000;
  // Chunk segment size (tests use small ones).
  uint64_t segment_size = 512 * 1024 * 1024;
};

// Writes the samples of `set` with timestamps in [mint, maxt) into a new block under
// `parent_dir` whose meta spans [mint, maxt). REQUIRES: `set` yields series sorted by labels,
// each label set once. Series without samples in range are left out. When no sample is in
// range no block is written and the returned meta has an empty ulid (as upstream's head
// compaction, which writes nothing for an empty range).
Result<BlockMeta> WriteBlock(const std::string& parent_dir, storage::SeriesSet* set, int64_t mint,
                             int64_t maxt, const BlockWriteOptions& options = {});

}  // namespace kiln::tsdb::block
