// Small POSIX file helpers shared by the chunk files and the index: numbered segment files
// ("000001", …), whole-buffer writes and directory fsync.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/util/result.h"

namespace kiln::tsdb::chunks {

// An owned file descriptor, closed on destruction. Not thread-safe.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor, reporting the error close(2) may return for delayed writes.
  Status Close();
  void Reset();

 private:
  int fd_ = -1;
};

// "<dir>/000042" for seq 42: six digits, as upstream names segments.
std::string SegmentPath(const std::string& dir, uint64_t seq);

// Files in `dir` whose whole name is a decimal number, as (seq, path) sorted by seq.
Result<std::vector<std::pair<uint64_t, std::string>>> ListSegments(const std::string& dir);

// Creates `dir` and its parents if missing.
Status MakeDirs(const std::string& dir);

// Opens `path` for writing, creating or truncating it.
Result<UniqueFd> CreateFile(const std::string& path);

// Writes all of `data` at the current offset, retrying short writes.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// fsync(2) on a file or directory.
Status SyncFd(int fd, const std::string& what);
Status SyncDir(const std::string& dir);

// Truncates the file at `path` to `size` bytes.
Status TruncateFile(const std::string& path, uint64_t size);

}  // namespace kiln::tsdb::chunks
