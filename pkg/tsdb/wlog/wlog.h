// WL: Prometheus's write-ahead log (tsdb/wlog upstream, layout in tsdb/docs/format/wal.md).
//
// A WAL directory holds segment files named by an 8-digit index (00000000, 00000001, …), each
// at most `segment_size` bytes (128 MiB by default) and made of 32 KiB pages. A record is
// written as one or more fragments, each with a 7-byte header:
//   type (1 byte: 1 full, 2 first, 3 middle, 4 last; bit 3 set = snappy-compressed payload)
//   length (big-endian uint16) | CRC32-Castagnoli of the fragment payload (big-endian uint32)
// A fragment never starts in the last < 7 bytes of a page; the rest of such a page (and of
// the last page of a finished segment) is zero padding. A record never spans two segments
// (one larger than a whole segment gets an oversized segment of its own, as upstream).
//
// Durability: every Log call hands its bytes to the OS with write(2) before returning, so an
// acknowledged record survives a crash of the process (not of the machine). Finished
// segments are fsynced by a background thread; Sync() and Close() wait for it.
//
// Thread-safety: WL is thread-safe; all public methods serialise on one mutex.
//
// API stability: the head codes against this header; changes are additive only.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/tsdb/wlog/metrics.h"
#include "pkg/util/logger.h"
#include "pkg/util/result.h"
#include "pkg/util/status.h"

namespace kiln::tsdb::wlog {

class SegmentSyncer;
class SegmentWriter;

inline constexpr int64_t kPageSize = 32 * 1024;
inline constexpr int64_t kRecordHeaderSize = 7;
inline constexpr int64_t kDefaultSegmentSize = 128 * 1024 * 1024;

// Where a Reader stopped on damaged data: what Repair needs to know.
struct CorruptionError {
  std::string dir;     // directory of the segment; empty when reading a lone file
  int segment = -1;    // segment index, -1 when unknown
  int64_t offset = 0;  // byte offset inside the segment where reading failed
  Status status;       // kCorruption with a description; other codes are not repairable
};

struct SegmentFile {
  std::string name;  // file name without directory, e.g. "00000003"
  int index = 0;
};

// dir + "/" + the 8-digit zero-padded index.
std::string SegmentName(const std::string& dir, int index);
// Segment files of `dir` by ascending index (other names are ignored). kCorruption when the
// indices are not consecutive, kIOError when the directory cannot be read.
Result<std::vector<SegmentFile>> ListSegments(const std::string& dir);
// First and last segment index in `dir`; {-1, -1} when there is none.
Result<std::pair<int, int>> Segments(const std::string& dir);

struct Options {
  // Must be a positive multiple of kPageSize.
  int64_t segment_size = kDefaultSegmentSize;
  // Snappy-compress records that shrink (Prometheus's default since 2.20).
  bool compress = true;
  // Registers Metrics with this prefix when non-null ("prometheus_tsdb_wal_" for the WAL).
  prometheus::Registry* registry = nullptr;
  std::string metrics_prefix = "prometheus_tsdb_wal_";
};

class WL {
 public:
  // Creates `dir` if needed and starts a new segment after the last existing one (segment 0
  // in an empty directory), as upstream does: existing segments are never appended to.
  static Result<std::unique_ptr<WL>> Open(const std::string& dir, const Options& options,
                                          const Logger& logger);
  // Closes the log if Close() was not called, dropping any error.
  ~WL();
  WL(const WL&) = delete;
  WL& operator=(const WL&) = delete;

  // Appends the records in order, in one batch: pages fill up and are written as they
  // complete, the partial last page is written at the end. On error the log may hold a
  // prefix of the batch (a torn record is repaired at the next start).
  Status Log(std::span<const std::string_view> recs);
  Status Log(std::span<const std::string> recs);
  Status Log(std::string_view rec);

  // Writes the partial page, fsyncs the current segment and waits for the background fsync
  // of finished ones: afterwards everything logged survives a machine crash.
  Status Sync();
  // Finishes the current segment (pads its last page, queues it for fsync) and starts the
  // next one. Returns the index of the new segment.
  Result<int> NextSegment();
  // First and last segment index on disk.
  Result<std::pair<int, int>> Segments() const;
  // Deletes every segment with an index below `index`.
  Status Truncate(int index);
  // Repairs the damage a Reader reported: deletes all segments after the damaged one,
  // rewrites the damaged one with every record that ends before the damage, and starts a
  // new segment after it. Increments corruptions_total. kBadData unless err.status is
  // kCorruption. REQUIRES: err.dir is this log's
  // directory and nothing was logged since Open (repair happens at startup, after replay).
  Status Repair(const CorruptionError& err);
  // Pads and writes the last page, fsyncs and closes the segment. Later calls fail with
  // kUnavailable.
  Status Close();

  const std::string& dir() const { return dir_; }
  bool compression_enabled() const { return options_.compress; }
  // Index of the segment being written.
  int current_segment() const;
  // The log's metrics, e.g. for the head to count a corruption found while checkpointing.
  Metrics& metrics() { return *metrics_; }

 private:
  WL(std::string dir, Options options, Logger logger);

  Status LogLocked(std::string_view rec, bool final_record);
  Status FlushPage(bool clear);
  Status StartSegment(int index);
  Status FinishSegment();
  Result<int> NextSegmentLocked();
  Status RewriteSegment(const CorruptionError& err);
  int64_t PagesPerSegment() const { return options_.segment_size / kPageSize; }

  const std::string dir_;
  const Options options_;
  const Logger logger_;
  const std::unique_ptr<Metrics> metrics_;
  const std::unique_ptr<SegmentSyncer> syncer_;  // after metrics_, which it uses

  mutable std::mutex mu_;
  std::unique_ptr<SegmentWriter> segment_;  // GUARDED_BY(mu_); null after Close()
  std::string page_;                        // GUARDED_BY(mu_); kPageSize bytes, zero past alloc
  int64_t page_alloc_ = 0;                  // GUARDED_BY(mu_); bytes of page_ filled
  int64_t page_flushed_ = 0;                // GUARDED_BY(mu_); bytes of page_ written out
  int64_t done_pages_ = 0;                  // GUARDED_BY(mu_); completed pages in segment_
  std::string snappy_buf_;                  // GUARDED_BY(mu_)
};

}  // namespace kiln::tsdb::wlog
