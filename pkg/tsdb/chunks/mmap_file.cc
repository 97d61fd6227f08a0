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

Result<std::unique_ptr<chunkenc::Chunk>> ChunkFromMapping(std::shared_ptr<const MmapFile> file,
                                                          chunkenc::Encoding encoding,
                                                          std::string_view data) {
  return chunkenc::FromData(encoding, data, std::move(file));
}

}  // namespace kiln::tsdb::chunks
