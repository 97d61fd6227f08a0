// ChunkReader: serves chunks out of a block's memory-mapped chunks/ segment files (format in
// chunk_writer.h).
//
// Thread-safe: immutable after Open. Chunks it returns keep their segment mapped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pkg/tsdb/chunks/chunk_meta.h"
#include "pkg/tsdb/chunks/mmap_file.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::chunks {

class ChunkReader {
 public:
  // Maps every segment in `dir` and checks magic and version.
  static Result<std::unique_ptr<ChunkReader>> Open(const std::string& dir);

  // The chunk at `ref`, a view into the mapping. Corruption if it is out of bounds or fails
  // its CRC.
  Result<std::unique_ptr<chunkenc::Chunk>> Chunk(ChunkRef ref) const;

  // Total bytes of all segments.
  uint64_t Size() const;
  size_t NumSegments() const { return segments_.size(); }

 private:
  explicit ChunkReader(std::vector<std::shared_ptr<const MmapFile>> segments)
      : segments_(std::move(segments)) {}
  std::vector<std::shared_ptr<const MmapFile>> segments_;  // index = ref's segment index
};

}  // namespace kiln::tsdb::chunks
