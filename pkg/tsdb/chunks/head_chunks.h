// ChunkDiskMapper: writes the head's full chunks to chunks_head/ and serves them back from
// memory-mapped files, so that the head keeps only a reference per full chunk in memory.
//
// File format (upstream tsdb/docs/format/head_chunks.md and tsdb/chunks/head_chunks.go):
// files 000001, 000002, … each start with magic 0x0130BC91 (4 bytes BE), version 1 (1 byte)
// and 3 padding bytes; each chunk is series ref (8 BE), mint (8 BE), maxt (8 BE), encoding
// (1), data length (uvarint), data, and a CRC32C (4 BE) over all the preceding fields of the
// chunk. Files are cut before they would exceed 128 MiB.
//
// Thread-safe: every method takes the mapper's mutex; Chunk() holds it only to locate the
// bytes, and checks and decodes them unlocked.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pkg/tsdb/chunkenc/chunk.h"
#include "pkg/tsdb/chunks/file_util.h"
#include "pkg/tsdb/chunks/mmap_file.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::chunks {

// Upper 32 bits: the file's sequence number (its name, 1-based); lower 32 bits: the byte
// offset where the chunk's series ref starts. Packed as upstream's ChunkDiskMapperRef.
using ChunkDiskMapperRef = uint64_t;

inline ChunkDiskMapperRef NewChunkDiskMapperRef(uint64_t seq, uint64_t offset) {
  return (seq << 32) | (offset & 0xffffffffu);
}

inline constexpr uint32_t kHeadChunksMagic = 0x0130BC91;
inline constexpr size_t kMaxHeadChunkFileSize = 128 * 1024 * 1024;
inline constexpr size_t kDefaultHeadChunkWriteBuffer = 4 * 1024 * 1024;
// Set in a record's encoding byte for out-of-order head chunks (upstream OutOfOrderMask);
// never written to blocks.
inline constexpr uint8_t kOutOfOrderMask = 0x80;

// What IterateAllChunks reports for each chunk.
struct HeadChunkInfo {
  uint64_t series_ref;
  ChunkDiskMapperRef ref;
  int64_t min_time;
  int64_t max_time;
  uint16_t num_samples;
  chunkenc::Encoding encoding;  // with the out-of-order flag removed
  bool out_of_order;            // written by the head's out-of-order path
};

// What IterateAllChunks had to repair at the tail; zero when nothing was wrong.
struct HeadChunkRepair {
  uint64_t files_removed = 0;
  uint64_t bytes_dropped = 0;
};

class ChunkDiskMapper {
 public:
  // Opens `dir` (created if missing), maps the existing files and checks their headers.
  // A trailing empty file, left by a crash right after a cut, is deleted.
  static Result<std::unique_ptr<ChunkDiskMapper>> Open(
      const std::string& dir, size_t write_buffer_size = kDefaultHeadChunkWriteBuffer);
  ~ChunkDiskMapper();

  // Appends a chunk. The bytes sit in a write buffer until Flush (or the buffer fills), but
  // Chunk() serves them at once. The first write after Open starts a new file. Out-of-order
  // chunks are flagged in the encoding byte, as upstream does.
  Result<ChunkDiskMapperRef> WriteChunk(uint64_t series_ref, int64_t mint, int64_t maxt,
                                        const chunkenc::Chunk& chunk, bool out_of_order = false);

  // The chunk at `ref`, checked against its CRC. Chunks in mapped files are views that keep
  // the mapping alive; chunks still in the write buffer are copies.
  Result<std::unique_ptr<chunkenc::Chunk>> Chunk(ChunkDiskMapperRef ref);

  // Calls `fn` for every chunk in every file, in file and offset order; stops at the first
  // error `fn` returns. A torn or corrupt chunk ends the replay there: its file is truncated
  // at the chunk's start and any later files are deleted, which the returned repair reports.
  // REQUIRES: called before the first WriteChunk (startup replay).
  Result<HeadChunkRepair> IterateAllChunks(const std::function<Status(const HeadChunkInfo&)>& fn);

  // Deletes the leading files whose chunks all end before `mint`. The file being written, if
  // it holds chunks, is finished first (the next write starts a new file) so that it can be
  // deleted by a later call. Files whose time range is unknown (not replayed yet) are kept.
  Status Truncate(int64_t mint);

  // Writes the buffer to the current file; Sync also fsyncs it.
  Status Flush();
  Status Sync();
  // Finishes the current file; the next write starts a new one.
  Status CutNewFile();
  // Flushes, syncs and closes. Later calls fail. Mapped chunks handed out stay valid.
  Status Close();

  // Sequence numbers of the files on disk, in order.
  std::vector<uint64_t> FileSequences() const;

 private:
  struct File {
    std::shared_ptr<const MmapFile> map;
    int64_t max_time;  // INT64_MIN while unknown
  };

  explicit ChunkDiskMapper(std::string dir, size_t write_buffer_size)
      : dir_(std::move(dir)), write_buffer_size_(write_buffer_size) {}
  Status OpenFiles();
  Status CutLocked();
  Status FlushLocked();
  Status FinishCurrentLocked();
  Result<uint64_t> ReplayFile(uint64_t seq, File* file,
                              const std::function<Status(const HeadChunkInfo&)>& fn, bool* stop);
  Status DropFrom(uint64_t seq, uint64_t offset, HeadChunkRepair* repair);

  const std::string dir_;
  const size_t write_buffer_size_;

  mutable std::mutex mu_;
  std::map<uint64_t, File> files_;  // by sequence number, guarded by mu_
  bool closed_ = false;             // guarded by mu_
  // The file being written: its sequence (0 for none), descriptor, bytes written to it
  // (including the buffer) and bytes already flushed; guarded by mu_.
  uint64_t cur_seq_ = 0;
  UniqueFd cur_fd_;
  uint64_t cur_size_ = 0;
  uint64_t cur_flushed_ = 0;
  int64_t cur_max_time_ = INT64_MIN;
  std::string buffer_;  // unflushed bytes, starting at offset cur_flushed_; guarded by mu_
};

}  // namespace kiln::tsdb::chunks
