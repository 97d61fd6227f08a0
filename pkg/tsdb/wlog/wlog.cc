#include "pkg/tsdb/wlog/wlog.h"

#include <snappy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>

#include "pkg/tsdb/wlog/fragment.h"
#include "pkg/tsdb/wlog/reader.h"
#include "pkg/tsdb/wlog/segment.h"
#include "pkg/tsdb/wlog/segment_syncer.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::wlog {

Result<std::unique_ptr<WL>> WL::Open(const std::string& dir, const Options& options,
                                     const Logger& logger) {
  if (options.segment_size <= 0 || options.segment_size % kPageSize != 0) {
    return Status::BadData("invalid WAL segment size " + std::to_string(options.segment_size));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create WAL directory " + dir + ": " + ec.message());
  KILN_ASSIGN_OR_RETURN(auto range, wlog::Segments(dir));
  std::unique_ptr<WL> wl(new WL(dir, options, logger.With({{"component", "wal"}})));
  KILN_RETURN_IF_ERROR(wl->StartSegment(range.second + 1));
  return wl;
}

WL::WL(std::string dir, Options options, Logger logger)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      logger_(std::move(logger)),
      metrics_(std::make_unique<Metrics>(options_.registry, options_.metrics_prefix)),
      syncer_(std::make_unique<SegmentSyncer>(metrics_.get(), logger_)),
      page_(kPageSize, '\0') {}

WL::~WL() { Close(); }

int WL::current_segment() const {
  std::lock_guard lock(mu_);
  return segment_ ? segment_->index() : -1;
}

Status WL::Log(std::string_view rec) { return Log(std::span<const std::string_view>(&rec, 1)); }

Status WL::Log(std::span<const std::string> recs) {
  std::vector<std::string_view> views(recs.begin(), recs.end());
  return Log(std::span<const std::string_view>(views));
}

Status WL::Log(std::span<const std::string_view> recs) {
  std::lock_guard lock(mu_);
  if (!segment_) return Status::Unavailable("WAL " + dir_ + " is closed");
  for (size_t i = 0; i < recs.size(); i++) {
    Status s = LogLocked(recs[i], i + 1 == recs.size());
    if (!s.ok()) {
      metrics_->writes_failed.Increment();
      return s.Wrap("write to WAL");
    }
  }
  return Status::OK();
}

// Writes one record as fragments into the page buffer, spilling full pages to the file.
Status WL::LogLocked(std::string_view rec, bool final_record) {
  bool compressed = false;
  if (options_.compress && !rec.empty()) {
    snappy_buf_.resize(snappy::MaxCompressedLength(rec.size()));
    size_t n = 0;
    snappy::RawCompress(rec.data(), rec.size(), snappy_buf_.data(), &n);
    if (n < rec.size()) {
      rec = std::string_view(snappy_buf_.data(), n);
      compressed = true;
    }
  }
  // Records never cross segments: start a new one when the rest of this one is too small.
  // A record larger than a whole segment makes that segment oversized, as upstream does.
  int64_t left = kPageSize - page_alloc_ - kRecordHeaderSize;
  left += (kPageSize - kRecordHeaderSize) * (PagesPerSegment() - done_pages_ - 1);
  if (static_cast<int64_t>(rec.size()) > left) {
    KILN_RETURN_IF_ERROR(NextSegmentLocked().status());
  }
  // One pass even for an empty record, so it is written as an empty full fragment.
  for (bool first = true; first || !rec.empty(); first = false) {
    // Only after an earlier failed flush can the page still be full here.
    if (kPageSize - page_alloc_ < kRecordHeaderSize) KILN_RETURN_IF_ERROR(FlushPage(true));
    const size_t room = static_cast<size_t>(kPageSize - page_alloc_ - kRecordHeaderSize);
    const std::string_view part = rec.substr(0, std::min(rec.size(), room));
    const bool last = part.size() == rec.size();
    uint8_t type = first ? (last ? kFragFull : kFragFirst) : (last ? kFragLast : kFragMiddle);
    if (compressed) type |= kSnappyMask;
    char* p = page_.data() + page_alloc_;
    p[0] = static_cast<char>(type);
    p[1] = static_cast<char>(part.size() >> 8);
    p[2] = static_cast<char>(part.size());
    EncodeBE32(p + 3, Crc32c(part));
    std::memcpy(p + kRecordHeaderSize, part.data(), part.size());
    page_alloc_ += kRecordHeaderSize + static_cast<int64_t>(part.size());
    if (kPageSize - page_alloc_ < kRecordHeaderSize) KILN_RETURN_IF_ERROR(FlushPage(true));
    rec.remove_prefix(part.size());
  }
  if (final_record && page_alloc_ > page_flushed_) return FlushPage(false);
  return Status::OK();
}

// Writes the unwritten part of the page. With `clear` (or when no fragment fits any more)
// the page is completed: padded with zeros to its end and started afresh.
Status WL::FlushPage(bool clear) {
  metrics_->page_flushes.Increment();
  clear = clear || kPageSize - page_alloc_ < kRecordHeaderSize;
  if (clear) page_alloc_ = kPageSize;
  // On a failed or short write, remember what did reach the file so a retry continues
  // exactly after it instead of writing bytes twice.
  const int64_t before = segment_->size();
  Status s =
      segment_->Write(std::string_view(page_.data() + page_flushed_, page_alloc_ - page_flushed_));
  page_flushed_ += segment_->size() - before;
  if (!s.ok()) return s;
  if (clear) {
    std::fill(page_.begin(), page_.end(), '\0');
    page_alloc_ = page_flushed_ = 0;
    done_pages_++;
    metrics_->page_completions.Increment();
  }
  return Status::OK();
}

Status WL::StartSegment(int index) {
  KILN_ASSIGN_OR_RETURN(segment_, SegmentWriter::Open(dir_, index, kPageSize));
  done_pages_ = segment_->size() / kPageSize;
  metrics_->current_segment.Set(index);
  return Status::OK();
}

// Pads the last page and hands the current segment to the syncer.
Status WL::FinishSegment() {
  if (page_alloc_ > 0) KILN_RETURN_IF_ERROR(FlushPage(true));
  syncer_->Enqueue(std::move(segment_));
  return Status::OK();
}

Result<int> WL::NextSegmentLocked() {
  const int next = segment_->index() + 1;
  KILN_RETURN_IF_ERROR(FinishSegment());
  KILN_RETURN_IF_ERROR(StartSegment(next));
  return next;
}

Result<int> WL::NextSegment() {
  std::lock_guard lock(mu_);
  if (!segment_) return Status::Unavailable("WAL " + dir_ + " is closed");
  return NextSegmentLocked();
}

Status WL::Sync() {
  std::lock_guard lock(mu_);
  if (!segment_) return Status::Unavailable("WAL " + dir_ + " is closed");
  if (page_alloc_ > page_flushed_) KILN_RETURN_IF_ERROR(FlushPage(false));
  const auto start = std::chrono::steady_clock::now();
  Status s = segment_->Sync();
  metrics_->fsync_duration.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  Status previous = syncer_->Wait();
  return s.ok() ? previous : s;
}

Result<std::pair<int, int>> WL::Segments() const { return wlog::Segments(dir_); }

Status WL::Truncate(int index) {
  metrics_->truncations.Increment();
  auto segs = ListSegments(dir_);
  if (!segs.ok()) {
    metrics_->truncations_failed.Increment();
    return segs.status().Wrap("truncate WAL");
  }
  const int current = current_segment();
  for (const auto& seg : *segs) {
    // The segment being written is never deleted, whatever `index` says.
    if (seg.index >= index || seg.index == current) break;
    const std::string path = dir_ + "/" + seg.name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      metrics_->truncations_failed.Increment();
      return Status::FromErrno("truncate WAL: delete " + path, errno);
    }
  }
  return Status::OK();
}

Status WL::Repair(const CorruptionError& err) {
  if (!err.status.Is(StatusCode::kCorruption)) {
    return Status::BadData("cannot repair a WAL after a non-corruption error: " +
                           err.status.ToString());
  }
  if (err.segment < 0) return Status::BadData("corruption error does not specify a segment");
  std::lock_guard lock(mu_);
  if (!segment_) return Status::Unavailable("WAL " + dir_ + " is closed");
  metrics_->corruptions.Increment();
  logger_.Warn("Starting corruption repair",
               {{"segment", std::to_string(err.segment)}, {"offset", std::to_string(err.offset)}});
  // The writer's segment is after the damage (Open always starts a new one) and goes away
  // with the others; drop it without padding.
  KILN_RETURN_IF_ERROR(segment_->Close());
  segment_.reset();
  page_alloc_ = page_flushed_ = 0;
  std::fill(page_.begin(), page_.end(), '\0');

  KILN_ASSIGN_OR_RETURN(auto segs, ListSegments(dir_));
  logger_.Warn("Deleting all segments newer than corrupted segment",
               {{"segment", std::to_string(err.segment)}});
  for (const auto& seg : segs) {
    if (seg.index <= err.segment) continue;
    const std::string path = dir_ + "/" + seg.name;
    if (::unlink(path.c_str()) != 0) return Status::FromErrno("repair: delete " + path, errno);
  }
  logger_.Warn("Rewrite corrupted segment", {{"segment", std::to_string(err.segment)}});
  KILN_RETURN_IF_ERROR(RewriteSegment(err));
  return StartSegment(err.segment + 1);
}

// Moves the damaged segment aside and writes back every record that ends before the damage.
// No record crosses into the previous segment, so nothing before it needs touching.
Status WL::RewriteSegment(const CorruptionError& err) {
  const std::string path = SegmentName(dir_, err.segment);
  const std::string tmp = path + ".repair";
  if (::rename(path.c_str(), tmp.c_str()) != 0) {
    return Status::FromErrno("repair: rename " + path, errno);
  }
  KILN_RETURN_IF_ERROR(StartSegment(err.segment));
  {
    KILN_ASSIGN_OR_RETURN(auto reader, Reader::OpenFile(tmp, err.segment));
    while (reader->Next() && reader->Offset() < err.offset) {
      KILN_RETURN_IF_ERROR(LogLocked(reader->Record(), true).Wrap("repair: insert record"));
    }
    // The reader is expected to stop at the damage; its error is the one being repaired.
  }
  KILN_RETURN_IF_ERROR(FinishSegment());
  KILN_RETURN_IF_ERROR(syncer_->Wait());
  if (::unlink(tmp.c_str()) != 0) return Status::FromErrno("repair: delete " + tmp, errno);
  return SyncDir(dir_);
}

Status WL::Close() {
  std::lock_guard lock(mu_);
  if (!segment_) return Status::OK();
  KILN_RETURN_IF_ERROR(FinishSegment().Wrap("close WAL"));
  return syncer_->Wait().Wrap("close WAL");
}

}  // namespace kiln::tsdb::wlog
