// A read-only memory mapping of a whole file, unmapped on destruction.
//
// Thread-safe: immutable after Open. Share it with std::shared_ptr so that chunk views handed
// out to readers keep the mapping alive after the file has been deleted or truncated away.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "pkg/tsdb/chunkenc/chunk.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::chunks {

class MmapFile {
 public:
  // Maps the file at `path`. `map_size`, if larger than the file, reserves address space so
  // that bytes appended to the file later become visible through data() (Linux shares the
  // page cache between write(2) and the mapping); only bytes that exist may be read.
  static Result<std::shared_ptr<const MmapFile>> Open(const std::string& path, size_t map_size = 0);
  ~MmapFile();
  MmapFile(const MmapFile&) = delete;
  MmapFile& operator=(const MmapFile&) = delete;

  // The file's bytes as they were at Open (size fixed at the file size then).
  std::string_view data() const { return {base_, file_size_}; }
  // The whole mapping; bytes past the current end of file must not be touched.
  const char* base() const { return base_; }
  size_t map_size() const { return map_size_; }
  const std::string& path() const { return path_; }

 private:
  MmapFile(std::string path, const char* base, size_t file_size, size_t map_size)
      : path_(std::move(path)), base_(base), file_size_(file_size), map_size_(map_size) {}

  std::string path_;
  const char* base_;
  size_t file_size_;
  size_t map_size_;
};

// A chunk viewing `data` inside `file`. The chunk and its iterators hold a reference that
// keeps the mapping alive for as long as any of them lives.
Result<std::unique_ptr<chunkenc::Chunk>> ChunkFromMapping(std::shared_ptr<const MmapFile> file,
                                                          chunkenc::Encoding encoding,
                                                          std::string_view data);

}  // namespace kiln::tsdb::chunks
