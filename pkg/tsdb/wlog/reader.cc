#include "pkg/tsdb/wlog/reader.h"

#include <fcntl.h>
#include <snappy.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

bool Reader::Fail(std::string_view message, StatusCode code) {
  err_.dir = cur_ < files_.size() ? files_[cur_].dir : "";
  err_.segment = Segment();
  err_.offset = off_;
  err_.status =
      Status(code, message)
          .Wrap("segment " + std::to_string(err_.segment) + " offset " + std::to_string(off_));
  return false;
}

bool Reader::Next() {
  if (!err_.status.ok()) return false;
  return ReadRecord();
}

// Moves to the next segment file once the current one is exhausted. A record still open
// at that point is torn (last segment) or crosses segments, which no writer does.
bool Reader::NextFile(bool in_record) {
  if (in_record) {
    return Fail(cur_ + 1 == files_.size() ? "last record is torn"
                                          : "record crosses a segment boundary");
  }
  files_[cur_].Unmap();
  cur_++;
  off_ = record_end_ = 0;
  if (Status s = OpenCurrent(); !s.ok()) {
    err_.status = s;
    err_.segment = Segment();
    return false;
  }
  return true;
}

// Skips the zero padding from off_ to the end of its page, checking it really is zero.
bool Reader::SkipPadding(const File& f) {
  const int64_t page_end = (off_ / kPageSize + 1) * kPageSize;
  for (int64_t i = off_ + 1; i < std::min(page_end, f.size); i++) {
    if (f.data[i] != 0) {
      off_ = i + 1;
      return Fail("unexpected non-zero byte in padded page");
    }
  }
  off_ = page_end;
  return true;
}

// Reads and checks the fragment at off_ and advances past it. off_ always moves past what
// was examined before a failure is reported, so the error offset is strictly after the end
// of the last good record (Repair keeps exactly the records that end before it).
bool Reader::ReadFragment(const File& f, Fragment* frag) {
  const int64_t start = off_;
  const int64_t page_end = (start / kPageSize + 1) * kPageSize;
  const auto head = static_cast<uint8_t>(f.data[start]);
  off_ = std::min(start + kRecordHeaderSize, f.size);
  if (start + kRecordHeaderSize > f.size) return Fail("torn fragment header");
  frag->type = head & kFragTypeMask;
  frag->snappy = (head & kSnappyMask) != 0;
  const int64_t length = DecodeBE16(f.data + start + 1);
  const uint32_t crc = DecodeBE32(f.data + start + 3);
  if (frag->type > kFragLast) return Fail("invalid fragment type " + std::to_string(frag->type));
  const int64_t end = start + kRecordHeaderSize + length;
  if (end > page_end) return Fail("fragment crosses a page boundary");
  if (end > f.size) {
    off_ = f.size;
    return Fail("truncated fragment");
  }
  frag->data = std::string_view(f.data + start + kRecordHeaderSize, length);
  off_ = end;
  if (const uint32_t got = Crc32c(frag->data); got != crc) {
    char msg[64];
    std::snprintf(msg, sizeof msg, "unexpected checksum %x, expected %x", got, crc);
    return Fail(msg);
  }
  // Only an intact fragment can tell a zstd record (valid data Kiln cannot decode, which
  // must not be "repaired" away) from damage.
  if (head & kZstdMask) {
    return Fail(
        "zstd-compressed WAL records are not supported; restart Prometheus with "
        "--storage.tsdb.wal-compression-type=snappy first",
        StatusCode::kUnavailable);
  }
  return true;
}

// Turns the collected fragments into the record, decompressing when flagged.
bool Reader::FinishRecord(bool snappy) {
  record_end_ = off_;
  if (!snappy || fragments_.empty()) {
    record_.swap(fragments_);
    return true;
  }
  record_.clear();
  if (!snappy::Uncompress(fragments_.data(), fragments_.size(), &record_)) {
    return Fail("invalid snappy-compressed record");
  }
  return true;
}

// Reads fragments until a record is complete: full, or first middle* last.
bool Reader::ReadRecord() {
  fragments_.clear();
  int count = 0;
  bool snappy = false;
  while (true) {
    if (cur_ >= files_.size()) return count == 0 ? false : Fail("last record is torn");
    const File& f = files_[cur_];
    // A short segment reads as if zero-padded to the end of its last page.
    if (off_ >= (f.size + kPageSize - 1) / kPageSize * kPageSize) {
      if (!NextFile(count > 0)) return false;
      continue;
    }
    if (off_ >= f.size || (f.data[off_] & kFragTypeMask) == kFragPageTerm) {
      if (!SkipPadding(f)) return false;
      continue;
    }
    Fragment frag;
    if (!ReadFragment(f, &frag)) return false;
    const bool starts = frag.type == kFragFull || frag.type == kFragFirst;
    if (count == 0 && !starts) {
      return Fail(frag.type == kFragMiddle ? "unexpected middle record" : "unexpected last record");
    }
    if (count > 0 && starts) {
      return Fail(frag.type == kFragFull ? "unexpected full record" : "unexpected first record");
    }
    if (count++ == 0) snappy = frag.snappy;
    fragments_.append(frag.data);
    if (frag.type == kFragFull || frag.type == kFragLast) return FinishRecord(snappy);
  }
}

}  // namespace kiln::tsdb::wlog
