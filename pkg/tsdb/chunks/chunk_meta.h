// References to chunks on disk and the per-chunk metadata the index stores.
#pragma once

#include <cstdint>
#include <memory>

#include "pkg/tsdb/chunkenc/chunk.h"

namespace kiln::tsdb::chunks {

// Locates a chunk in a block's chunks/ directory: the upper 32 bits are the 0-based index of
// the segment file among the block's segments (file 000001 is index 0), the lower 32 bits the
// byte offset of the chunk's length field (upstream tsdb/docs/format/chunks.md).
using ChunkRef = uint64_t;

inline ChunkRef NewBlockChunkRef(uint64_t segment_index, uint64_t offset) {
  return (segment_index << 32) | (offset & 0xffffffffu);
}
inline uint64_t BlockChunkSegment(ChunkRef ref) { return ref >> 32; }
inline uint64_t BlockChunkOffset(ChunkRef ref) { return ref & 0xffffffffu; }

// A chunk's place and time range, as an index series entry lists it. `chunk` is set while a
// block is written, and by readers that load the data.
struct ChunkMeta {
  ChunkRef ref = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  std::shared_ptr<chunkenc::Chunk> chunk;
};

}  // namespace kiln::tsdb::chunks
