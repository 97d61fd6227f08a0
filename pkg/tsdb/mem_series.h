// MemSeries: one series in the head: its labels, the open XOR chunk being appended to, the
// earlier (full) chunks, the isolation tags of recent commits, and its metadata.
//
// Chunks are cut as upstream does (tsdb/head_append.go, appendPreprocessor): at the end of
// the chunk-range window the first sample falls in, earlier when the predicted end time for
// ~samples_per_chunk samples is reached (predicted once the chunk is a quarter full), at
// twice samples_per_chunk, or when the chunk would exceed 1 KiB.
//
// Thread-safety: labels() and ref() are immutable. Everything else REQUIRES lock() held.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/tsdb/chunks/head_chunks.h"
#include "pkg/tsdb/isolation.h"
#include "pkg/tsdb/record/record.h"
#include "pkg/tsdb/spin_lock.h"
#include "pkg/util/status.h"

namespace kiln::tsdb {

struct ChunkOptions {
  int64_t chunk_range = 2 * 60 * 60 * 1000;  // ms
  int samples_per_chunk = 120;
  // Where full chunks go; null keeps them in memory (no data directory). Thread-safe.
  chunks::ChunkDiskMapper* mapper = nullptr;
};

// Deleted time ranges of a series (closed intervals), sorted, non-overlapping and
// non-adjacent.
using DeletedIntervals = std::vector<record::Interval>;
// Adds [iv.mint, iv.maxt] to `ivs`, merging it with the intervals it overlaps or touches.
void AddDeletedInterval(DeletedIntervals* ivs, record::Interval iv);
// Whether `t` lies in one of `ivs`.
bool IsDeleted(const DeletedIntervals& ivs, int64_t t);

// A chunk a reader may iterate: immutable, shared with the series (or a private copy of the
// open chunk), with the number of its leading samples the reader may see. A chunk written
// to chunks_head/ has a null `chunk` until resolved through the mapper with `mmap_ref`.
struct ChunkView {
  std::shared_ptr<const chunkenc::Chunk> chunk;
  int64_t mint = 0;
  int64_t maxt = 0;  // of all samples in the chunk, including ones beyond `limit`
  int limit = 0;     // samples visible to the reader
  chunks::ChunkDiskMapperRef mmap_ref = 0;
};

class MemSeries {
 public:
  MemSeries(model::Labels labels, uint64_t ref) : ref_(ref), labels_(std::move(labels)) {}
  MemSeries(const MemSeries&) = delete;
  MemSeries& operator=(const MemSeries&) = delete;

  const model::Labels& labels() const { return labels_; }
  uint64_t ref() const { return ref_; }
  SpinLock& mutex() const { return mu_; }

  // Whether (t, v) may be appended (upstream memSeries.appendable without out-of-order
  // support). OK for a new timestamp and for an exact duplicate of the last sample (which
  // Append then drops); kDuplicateSample, kOutOfBounds or kOutOfOrder otherwise, with
  // Prometheus's messages.
  Status Appendable(int64_t t, double v, int64_t min_valid_time) const;

  // Appends (t, v) tagged with `append_id` (0 = untagged, visible at once). Returns false,
  // and changes nothing, when t is not after the last sample. *chunk_created tells whether a
  // new chunk was cut.
  bool Append(int64_t t, double v, uint64_t append_id, const ChunkOptions& opts,
              bool* chunk_created);
  // Starts loading the lines an append reads and writes first (see the member order);
  // only a hint, no member is read.
  void Prefetch() const {
    const char* p = reinterpret_cast<const char*>(this);
    // Three prefetches cover any 128 bytes from p; for writing, as the append locks.
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + 64, 1);
    __builtin_prefetch(p + 127, 1);
  }
  // Drops the chunks that end before `mint`, the open one included (as upstream's
  // truncateChunksBefore); returns how many. Deleted intervals ending before `mint` go too.
  size_t TruncateChunksBefore(int64_t mint);
  // Forgets isolation tags below `low_watermark` (those samples are visible to everyone).
  void CleanupAppendIDsBelow(uint64_t low_watermark);

  // Chunks overlapping [mint, maxt] as `iso` may see them (nullptr = see everything),
  // leaving out chunks wholly inside a deleted interval.
  // The open chunk is copied, so the views stay valid while appends continue. With
  // `data` false only the bounds are filled in (no copy; chunk and mmap_ref unset), for
  // callers that only need to know whether the series has samples in range.
  std::vector<ChunkView> Chunks(int64_t mint, int64_t maxt, const IsolationState* iso,
                                bool data = true) const;

  bool empty() const { return head_chunk_ == nullptr; }

  // Commits staged against this series and not applied or rolled back yet: head GC leaves
  // such a series alone even while it is empty (upstream's pendingCommit).
  void AddPendingCommit() { ++pending_commits_; }
  void DonePendingCommit() { --pending_commits_; }
  int pending_commits() const { return pending_commits_; }
  // Set by head GC once the series is unlinked from the registry; an appender that still
  // holds the pointer must look the series up again.
  bool removed() const { return removed_; }
  void MarkRemoved() { removed_ = true; }

  // Tombstones: samples in these ranges are hidden from readers (and from head compaction).
  void AddDeleted(record::Interval iv) { AddDeletedInterval(&deleted_, iv); }
  const DeletedIntervals& deleted() const { return deleted_; }
  // Timestamp of the first / last appended sample. REQUIRES: !empty().
  int64_t MinTime() const;
  int64_t MaxTime() const { return head_maxt_; }
  double last_value() const { return last_value_; }
  // Number of chunks, open one included.
  size_t NumChunks() const { return closed_.size() + (head_chunk_ ? 1 : 0); }

  const model::Metadata* metadata() const { return meta_.get(); }
  void SetMetadata(const model::Metadata& m);

 private:
  // A full chunk: in chunks_head/ (chunk null, mmap_ref set) or in memory.
  struct ClosedChunk {
    std::shared_ptr<const chunkenc::Chunk> chunk;
    chunks::ChunkDiskMapperRef mmap_ref;
    int64_t mint;
    int64_t maxt;
    int num_samples;
  };
  // Samples of one commit appended in a row; the unit of isolation bookkeeping.
  struct TxRun {
    uint64_t append_id;
    uint32_t samples;
  };
  // The runs, oldest first. Every commit reads and updates them, and in steady state there
  // are one or two (the previous commit's until the next cleanup), so up to kInline live in
  // the series itself: a separate allocation would cost a cache miss per appended sample.
  class TxRuns {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    TxRun* begin() { return data(); }
    TxRun* end() { return data() + size_; }
    const TxRun* begin() const { return data(); }
    const TxRun* end() const { return data() + size_; }
    TxRun& front() { return data()[0]; }
    TxRun& back() { return data()[size_ - 1]; }
    const TxRun& operator[](size_t i) const { return data()[i]; }
    void push_back(TxRun r);
    // Drops the n oldest runs. REQUIRES: n <= size().
    void erase_front(size_t n);

   private:
    static constexpr size_t kInline = 2;
    TxRun* data() { return spilled_ ? heap_.data() : inline_; }
    const TxRun* data() const { return spilled_ ? heap_.data() : inline_; }

    TxRun inline_[kInline];
    uint32_t size_ = 0;
    bool spilled_ = false;  // the runs live in heap_ (more than kInline at some point)
    std::vector<TxRun> heap_;
  };

  // Whether the next sample at `t` must go to a new chunk; updates next_at_.
  bool NeedsNewChunk(int64_t t, const ChunkOptions& opts);
  void CutNewChunk(int64_t t, const ChunkOptions& opts);
  // Moves the open chunk to closed_, writing it to the mapper when there is one.
  void CloseHeadChunk(const ChunkOptions& opts);
  size_t HiddenSamples(const IsolationState& iso) const;

  // Members are ordered so that what every append reads and writes (lock, state, open
  // chunk, tx runs) comes first: with many series, each append's cache misses are misses on
  // these few lines, which Prefetch() loads ahead of use.
  mutable SpinLock mu_;
  // All members below but labels_ and ref_ are guarded by mu_.
  bool removed_ = false;
  int pending_commits_ = 0;
  // Samples in head_chunk_: its header says the same, but reading it there costs a cache
  // miss per appended sample before the encoder gets to that memory.
  int head_samples_ = 0;
  const uint64_t ref_;
  int64_t head_maxt_ = 0;
  double last_value_ = 0;
  std::unique_ptr<chunkenc::XorChunk> head_chunk_;
  std::unique_ptr<chunkenc::Appender> app_;
  int64_t next_at_ = 0;  // a sample at or after this starts a new chunk
  int64_t head_mint_ = 0;
  TxRuns txs_;  // runs of recent commits, oldest first
  const model::Labels labels_;
  std::vector<ClosedChunk> closed_;  // full chunks, oldest first
  std::unique_ptr<model::Metadata> meta_;
  DeletedIntervals deleted_;
};

}  // namespace kiln::tsdb
