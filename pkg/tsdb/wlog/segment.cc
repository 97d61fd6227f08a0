#include "pkg/tsdb/wlog/segment.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "pkg/tsdb/wlog/wlog.h"

namespace kiln::tsdb::wlog {
namespace {

// Parses a name made only of decimal digits, as Go's strconv.Atoi would accept it.
bool ParseIndex(std::string_view name, int* out) {
  if (name.empty() || name.size() > 9) return false;
  int v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string SegmentName(const std::string& dir, int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08d", index);
  return dir + "/" + buf;
}

Result<std::vector<SegmentFile>> ListSegments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("open WAL directory " + dir, errno);
  std::vector<SegmentFile> segs;
  while (struct dirent* e = readdir(d)) {
    int index;
    if (ParseIndex(e->d_name, &index)) segs.push_back({e->d_name, index});
  }
  closedir(d);
  std::sort(segs.begin(), segs.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.index < b.index; });
  for (size_t i = 1; i < segs.size(); i++) {
    if (segs[i].index != segs[i - 1].index + 1) {
      return Status::Corruption("segments are not sequential in " + dir + ": " + segs[i - 1].name +
                                " is followed by " + segs[i].name);
    }
  }
  return segs;
}

Result<std::pair<int, int>> Segments(const std::string& dir) {
  KILN_ASSIGN_OR_RETURN(auto segs, ListSegments(dir));
  if (segs.empty()) return std::pair<int, int>(-1, -1);
  return std::pair<int, int>(segs.front().index, segs.back().index);
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Open(const std::string& dir, int index,
                                                           int64_t page_size) {
  std::string path = SegmentName(dir, index);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return Status::FromErrno("create segment " + path, errno);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    const int e = errno;
    ::close(fd);
    return Status::FromErrno("seek segment " + path, e);
  }
  std::unique_ptr<SegmentWriter> w(new SegmentWriter(std::move(path), index, fd, size));
  if (size % page_size != 0) {
    KILN_RETURN_IF_ERROR(w->Write(std::string(page_size - size % page_size, '\0')));
  }
  return w;
}

SegmentWriter::~SegmentWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status SegmentWriter::Write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path_, errno);
    }
    size_ += n;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SegmentWriter::Sync() {
  if (::fdatasync(fd_) != 0) return Status::FromErrno("fsync " + path_, errno);
  return Status::OK();
}

Status SegmentWriter::Close() {
  if (fd_ < 0) return Status::OK();
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Status::FromErrno("close " + path_, errno);
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open directory " + dir, errno);
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("fsync directory " + dir, e);
  return Status::OK();
}

}  // namespace kiln::tsdb::wlog
