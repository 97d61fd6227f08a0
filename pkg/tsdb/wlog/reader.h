// Reader: reads the records of a sequence of WAL segments in order, reassembling fragments,
// checking CRCs and decompressing snappy payloads.
//
// Semantics follow upstream's wlog.Reader: zero bytes pad a page to its end; a segment file
// that ends in the middle of a page reads as if zero-padded to the page boundary; a record
// whose first fragments are followed by the end of the last segment is "torn"; a fragment
// sequence that is not full | first middle* last is corruption.
//
//   KILN_ASSIGN_OR_RETURN(auto r, Reader::Open({{dir, first, last}}));
//   while (r->Next()) Use(r->Record());
//   if (r->err().Is(StatusCode::kCorruption)) wl->Repair(r->Corruption());
//   else if (!r->err().ok()) fail
//
// Thread-compatible: one thread uses a Reader at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/tsdb/wlog/wlog.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::wlog {

// Segments first..last (inclusive) of dir. first = -1 means from the first segment on
// disk, last = -1 up to the last one.
struct SegmentRange {
  std::string dir;
  int first = -1;
  int last = -1;
};

class Reader {
 public:
  // Reads every existing segment of the ranges, in order; an empty selection reads no
  // records. kCorruption when a directory's segments are not consecutive.
  static Result<std::unique_ptr<Reader>> Open(const std::vector<SegmentRange>& ranges);
  // Reads one segment file at `path`, reporting `index` as its segment index.
  static Result<std::unique_ptr<Reader>> OpenFile(const std::string& path, int index);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Advances to the next record. False at the end or on error; then check err().
  bool Next();
  // REQUIRES: the last Next() returned true. Valid until the next call to Next().
  std::string_view Record() const { return record_; }
  // OK at a clean end. kCorruption: damaged data, which WL::Repair can cut off.
  // kUnavailable: intact data Kiln cannot read (zstd-compressed records) and kIOError: the
  // OS failed; never repair those, it would delete good data.
  const Status& err() const { return err_.status; }
  // Where the error happened (segment index and byte offset inside it).
  const CorruptionError& Corruption() const { return err_; }
  // Byte offset inside the current segment just past the last record returned.
  int64_t Offset() const { return record_end_; }
  // Index of the segment the last record came from (-1 before the first).
  int Segment() const;

 private:
  struct File;
  struct Fragment {
    int type = 0;
    bool snappy = false;
    std::string_view data;
  };
  explicit Reader(std::vector<File> files);
  bool ReadRecord();
  bool NextFile(bool in_record);
  bool SkipPadding(const File& f);
  bool ReadFragment(const File& f, Fragment* frag);
  bool FinishRecord(bool snappy);
  bool Fail(std::string_view message, StatusCode code = StatusCode::kCorruption);
  Status OpenCurrent();

  std::vector<File> files_;
  size_t cur_ = 0;          // index into files_
  int64_t off_ = 0;         // read position inside files_[cur_]
  int64_t record_end_ = 0;  // offset just past the last complete record
  std::string record_;
  std::string fragments_;
  CorruptionError err_;
};

}  // namespace kiln::tsdb::wlog
