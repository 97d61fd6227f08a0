#include "pkg/tsdb/wlog/reader.h"

#include <fcntl.h>
#include <snappy.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "pkg/tsdb/wlog/fragment.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::wlog {

// One segment file; mapped into memory only while it is being read.
struct Reader::File {
  std::string dir;
  std::string path;
  int index = 0;
  const char* data = nullptr;
  int64_t size = 0;

  void Unmap() {
    if (data != nullptr) ::munmap(const_cast<char*>(data), static_cast<size_t>(size));
    data = nullptr;
  }
};

Result<std::unique_ptr<Reader>> Reader::Open(const std::vector<SegmentRange>& ranges) {
  std::vector<File> files;
  for (const auto& r : ranges) {
    KILN_ASSIGN_OR_RETURN(auto segs, ListSegments(r.dir));
    for (const auto& s : segs) {
      if ((r.first >= 0 && s.index < r.first) || (r.last >= 0 && s.index > r.last)) continue;
      files.push_back({r.dir, r.dir + "/" + s.name, s.index});
    }
  }
  std::unique_ptr<Reader> reader(new Reader(std::move(files)));
  KILN_RETURN_IF_ERROR(reader->OpenCurrent());
  return reader;
}

Result<std::unique_ptr<Reader>> Reader::OpenFile(const std::string& path, int index) {
  std::vector<File> files;
  files.push_back({"", path, index});
  std::unique_ptr<Reader> reader(new Reader(std::move(files)));
  KILN_RETURN_IF_ERROR(reader->OpenCurrent());
  return reader;
}

Reader::Reader(std::vector<File> files) : files_(std::move(files)) {}

Reader::~Reader() {
  for (auto& f : files_) f.Unmap();
}

int Reader::Segment() const { return cur_ < files_.size() ? files_[cur_].index : -1; }

Status Reader::OpenCurrent() {
  if (cur_ >= files_.size()) return Status::OK();
  File& f = files_[cur_];
  const int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open segment " + f.path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::FromErrno("stat segment " + f.path, e);
  }
  f.size = st.st_size;
  if (f.size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(f.size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      return Status::FromErrno("mmap segment " + f.path, e);
    }
    f.data = static_cast<const char*>(p);
  }
  ::close(fd);
  return Status::OK();
}

bool Reader::Fail(std::string_view message) {
  err_.dir = cur_ < files_.size() ? files_[cur_].dir : "";
  err_.segment = Segment();
  err_.offset = off_;
  err_.status = Status::Corruption(message).Wrap("segment " + std::to_string(err_.segment) +
                                                 " offset " + std::to_string(off_));
  return false;
}

bool Reader::Next() {
  if (!err_.status.ok()) return false;
  return ReadRecord();
}

// Reads fragments until a record is complete. off_ always advances past what was examined
// before a failure is reported, so the error offset is strictly after the end of the last
// good record (Repair keeps exactly the records that end before it).
bool Reader::ReadRecord() {
  fragments_.clear();
  int fragments = 0;
  bool compressed = false;
  while (true) {
    if (cur_ >= files_.size()) return fragments == 0 ? false : Fail("last record is torn");
    const File& f = files_[cur_];
    // A short segment reads as if zero-padded to the end of its last page.
    const int64_t padded = (f.size + kPageSize - 1) / kPageSize * kPageSize;
    if (off_ >= padded) {
      if (fragments > 0) {
        return Fail(cur_ + 1 == files_.size() ? "last record is torn"
                                              : "record crosses a segment boundary");
      }
      files_[cur_].Unmap();
      cur_++;
      off_ = record_end_ = 0;
      Status s = OpenCurrent();
      if (!s.ok()) {
        err_.status = s;
        err_.segment = Segment();
        return false;
      }
      continue;
    }
    const uint8_t head = off_ < f.size ? static_cast<uint8_t>(f.data[off_]) : 0;
    const int64_t page_end = (off_ / kPageSize + 1) * kPageSize;
    if ((head & kFragTypeMask) == kFragPageTerm) {
      const int64_t real_end = std::min(page_end, f.size);
      for (int64_t i = off_ + 1; i < real_end; i++) {
        if (f.data[i] != 0) {
          off_ = i + 1;
          return Fail("unexpected non-zero byte in padded page");
        }
      }
      off_ = page_end;
      continue;
    }
    const int64_t start = off_;
    off_ = std::min(off_ + kRecordHeaderSize, f.size);
    if (start + kRecordHeaderSize > f.size) return Fail("torn fragment header");
    if (head & kZstdMask) return Fail("zstd-compressed records are not supported");
    const int type = head & kFragTypeMask;
    const int64_t length = DecodeBE16(f.data + start + 1);
    const uint32_t crc = DecodeBE32(f.data + start + 3);
    if (type > kFragLast) return Fail("invalid fragment type " + std::to_string(type));
    if (start + kRecordHeaderSize + length > page_end) return Fail("fragment crosses a page");
    if (start + kRecordHeaderSize + length > f.size) {
      off_ = f.size;
      return Fail("truncated fragment");
    }
    const std::string_view data(f.data + start + kRecordHeaderSize, length);
    off_ = start + kRecordHeaderSize + length;
    if (const uint32_t got = Crc32c(data); got != crc) {
      char msg[64];
      std::snprintf(msg, sizeof msg, "unexpected checksum %x, expected %x", got, crc);
      return Fail(msg);
    }
    if (fragments == 0 && type != kFragFull && type != kFragFirst) {
      return Fail(type == kFragMiddle ? "unexpected middle record" : "unexpected last record");
    }
    if (fragments > 0 && (type == kFragFull || type == kFragFirst)) {
      return Fail(type == kFragFull ? "unexpected full record" : "unexpected first record");
    }
    if (fragments == 0) compressed = (head & kSnappyMask) != 0;
    fragments++;
    fragments_.append(data);
    if (type == kFragFull || type == kFragLast) {
      record_end_ = off_;
      if (!compressed || fragments_.empty()) {
        record_.swap(fragments_);
        return true;
      }
      record_.clear();
      if (!snappy::Uncompress(fragments_.data(), fragments_.size(), &record_)) {
        return Fail("invalid snappy-compressed record");
      }
      return true;
    }
  }
}

}  // namespace kiln::tsdb::wlog
