// Segment helpers shared by the writer, the reader and checkpoints: file naming, listing,
// and a small append-only file handle. Internal to pkg/tsdb/wlog.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pkg/util/result.h"
#include "pkg/util/status.h"

namespace kiln::tsdb::wlog {

// An open segment file being appended to. Thread-compatible (WL guards it with its mutex).
class SegmentWriter {
 public:
  // Opens (creating if needed) segment `index` in `dir` for appending. A file whose size is
  // not a multiple of the page size had its last page torn: it is zero-padded to the page
  // boundary first, as upstream does, so the next fragment starts on a fresh page.
  static Result<std::unique_ptr<SegmentWriter>> Open(const std::string& dir, int index,
                                                     int64_t page_size);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Writes all of `data` at the end of the file (retrying short writes).
  Status Write(std::string_view data);
  Status Sync();
  Status Close();

  int index() const { return index_; }
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  SegmentWriter(std::string path, int index, int fd, int64_t size)
      : path_(std::move(path)), index_(index), fd_(fd), size_(size) {}

  const std::string path_;
  const int index_;
  int fd_;        // -1 once closed
  int64_t size_;  // bytes in the file
};

// fsyncs the directory itself, so renames and new files in it are durable.
Status SyncDir(const std::string& dir);

}  // namespace kiln::tsdb::wlog
