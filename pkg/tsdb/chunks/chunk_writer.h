// ChunkWriter: writes a block's chunks/ segment files.
//
// Format (upstream tsdb/docs/format/chunks.md): files 000001, 000002, … each start with magic
// 0x85BD40DD (4 bytes BE), version 1 and 3 padding bytes; each chunk is its data length
// (uvarint), encoding (1 byte), data, and a CRC32C (4 BE) over encoding and data. A new
// segment is started before a chunk that would take the current one past the segment size
// (512 MiB by default). Refs are NewBlockChunkRef(segment index, offset).
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "pkg/tsdb/chunks/chunk_meta.h"
#include "pkg/tsdb/chunks/file_util.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::chunks {

inline constexpr uint32_t kBlockChunksMagic = 0x85BD40DD;
inline constexpr uint64_t kDefaultChunkSegmentSize = 512 * 1024 * 1024;

class ChunkWriter {
 public:
  // Creates `dir` and writes segments into it.
  static Result<std::unique_ptr<ChunkWriter>> Open(
      const std::string& dir, uint64_t segment_size = kDefaultChunkSegmentSize);
  ~ChunkWriter();

  // Writes each meta's chunk and sets its ref. REQUIRES: every meta has a chunk.
  Status WriteChunks(std::span<ChunkMeta> metas);
  // Flushes, fsyncs and closes the last segment and syncs the directory.
  Status Close();

 private:
  ChunkWriter(std::string dir, uint64_t segment_size)
      : dir_(std::move(dir)), segment_size_(segment_size) {}
  Status Cut();
  Status FinishSegment();
  Status FlushBuffer();

  const std::string dir_;
  const uint64_t segment_size_;
  uint64_t segments_ = 0;  // segments started so far; the current one has index segments_-1
  UniqueFd fd_;
  uint64_t size_ = 0;   // bytes in the current segment, buffer included
  std::string buffer_;  // unwritten tail of the current segment
  bool closed_ = false;
};

}  // namespace kiln::tsdb::chunks
