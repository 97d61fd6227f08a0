#include "pkg/tsdb/chunks/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace kiln::tsdb::chunks {

Status UniqueFd::Close() {
  if (fd_ < 0) return Status::OK();
  const int rc = ::close(std::exchange(fd_, -1));
  return rc == 0 ? Status::OK() : Status::FromErrno("close", errno);
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

std::string SegmentPath(const std::string& dir, uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%06llu", static_cast<unsigned long long>(seq));
  return dir + "/" + name;
}

Result<std::vector<std::pair<uint64_t, std::string>>> ListSegments(const std::string& dir) {
  std::error_code ec;
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.size() > 19 ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    out.emplace_back(std::stoull(name), e.path().string());
  }
  if (ec) return Status::IOError("list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create directory " + dir + ": " + ec.message());
  return Status::OK();
}

Result<UniqueFd> CreateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + path, errno);
  return UniqueFd(fd);
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncFd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return Status::FromErrno("fsync " + what, errno);
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open directory " + dir, errno);
  return SyncFd(fd.get(), dir);
}

Status TruncateFile(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return Status::FromErrno("truncate " + path, errno);
  }
  return Status::OK();
}

}  // namespace kiln::tsdb::chunks
