#include "pkg/tsdb/chunks/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kiln::tsdb::chunks {

Result<std::shared_ptr<const MmapFile>> MmapFile::Open(const std::string& path, size_t map_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::FromErrno("stat " + path, e);
  }
  const size_t file_size = static_cast<size_t>(st.st_size);
  map_size = std::max(map_size, file_size);
  const char* base = nullptr;
  if (map_size > 0) {
    void* p = ::mmap(nullptr, map_size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      return Status::FromErrno("mmap " + path, e);
    }
    base = static_cast<const char*>(p);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  return std::shared_ptr<const MmapFile>(new MmapFile(path, base, file_size, map_size));
}

MmapFile::~MmapFile() {
  if (base_ != nullptr) ::munmap(const_cast<char*>(base_), map_size_);
}

namespace {

// Forwards to a chunk over mapped bytes and owns a reference to the mapping.
class MappedChunk final : public chunkenc::Chunk {
 public:
  MappedChunk(std::shared_ptr<const MmapFile> file, std::unique_ptr<chunkenc::Chunk> chunk)
      : file_(std::move(file)), chunk_(std::move(chunk)) {}
  chunkenc::Encoding encoding() const override { return chunk_->encoding(); }
  std::string_view Bytes() const override { return chunk_->Bytes(); }
  int NumSamples() const override { return chunk_->NumSamples(); }
  Result<std::unique_ptr<chunkenc::Appender>> NewAppender() override {
    return chunk_->NewAppender();  // copies out of the mapping before writing
  }
  std::unique_ptr<chunkenc::Iterator> NewIterator(
      std::unique_ptr<chunkenc::Iterator> reuse) const override {
    return chunk_->NewIterator(std::move(reuse));
  }

 private:
  std::shared_ptr<const MmapFile> file_;
  std::unique_ptr<chunkenc::Chunk> chunk_;
};

}  // namespace

Result<std::unique_ptr<chunkenc::Chunk>> ChunkFromMapping(std::shared_ptr<const MmapFile> file,
                                                          chunkenc::Encoding encoding,
                                                          std::string_view data) {
  KILN_ASSIGN_OR_RETURN(auto chunk, chunkenc::FromData(encoding, data));
  return std::unique_ptr<chunkenc::Chunk>(
      std::make_unique<MappedChunk>(std::move(file), std::move(chunk)));
}

}  // namespace kiln::tsdb::chunks
