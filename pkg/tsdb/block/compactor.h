// LeveledCompactor: decides which blocks to merge (upstream tsdb/compact.go's planning) and
// merges them into one new block.
//
// Planning, over the blocks of a data directory sorted by min time:
//  1. overlapping blocks (vertical compaction) are merged first;
//  2. otherwise, leaving out the newest block, the first group of blocks that together fill
//     one of ranges[1..] (aligned to multiples of the range), or lie wholly before the newest
//     block, with more than one block;
//  3. otherwise a large block (at least ranges[len/2] long) whose tombstones exceed 5% of
//     its series is rewritten alone.
// Merging drops samples under tombstones. The new block has level max+1, the union of the
// sources, and the merged blocks as parents; the caller deletes the parents (DB does so on
// reload, which also finishes the job after a crash between writing and deleting).
//
// Thread-safe: holds no state beyond its options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pkg/tsdb/block/meta.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::block {

// {base, base*factor, base*factor^2, …}: `steps` ranges (upstream ExponentialBlockRanges).
std::vector<int64_t> ExponentialBlockRanges(int64_t base, int steps, int64_t factor);

struct DirMeta {
  std::string dir;
  BlockMeta meta;
};

class LeveledCompactor {
 public:
  // REQUIRES: `ranges` non-empty and increasing; ranges[0] is the head block length.
  explicit LeveledCompactor(std::vector<int64_t> ranges) : ranges_(std::move(ranges)) {}

  // The block directories under `dir` to compact together next; empty when none.
  Result<std::vector<std::string>> Plan(const std::string& dir) const;
  // Planning over given metas (the part of Plan that does not touch the disk).
  std::vector<std::string> PlanMetas(std::vector<DirMeta> metas) const;

  // Merges the blocks in `dirs` into a new block under `dest`. Returns its meta; the ulid is
  // empty when nothing was left (every sample deleted), in which case no block was written.
  Result<BlockMeta> Compact(const std::string& dest, const std::vector<std::string>& dirs) const;

  const std::vector<int64_t>& ranges() const { return ranges_; }

 private:
  std::vector<DirMeta> SelectDirs(const std::vector<DirMeta>& ds) const;

  std::vector<int64_t> ranges_;
};

// Metas of the block directories (named by a ULID) directly under `dir`, unsorted. Temporary
// and foreign directories are skipped.
Result<std::vector<DirMeta>> ReadBlockMetas(const std::string& dir);

}  // namespace kiln::tsdb::block
