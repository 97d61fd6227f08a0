// Head: the in-memory part of the TSDB, backed by the write-ahead log under <dir>/wal. It
// holds the newest ~1.5 chunk_range of samples: once the DB has written older data to a
// block it calls Truncate, which drops that data from memory and the WAL.
//
// Writes go through HeadAppender (storage::Appender): staged, logged to the WAL, then
// applied all at once under isolation so a concurrent query never sees part of a commit.
// Reads go through HeadQuerier (storage::Querier) over [mint, maxt].
//
// Full chunks are written to <dir>/chunks_head and read back memory-mapped. On start that
// directory is rebuilt from the WAL (loading it instead is a startup-time optimisation not
// done yet). Truncate drops old chunks, garbage-collects series left without samples and
// checkpoints the WAL; Delete records tombstones. Not implemented yet: out-of-order
// ingestion, histograms and exemplars.
//
// Thread-safe: appenders and queriers may be used from any number of threads (each
// appender or querier by one thread at a time).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/storage/appender.h"
#include "pkg/storage/querier.h"
#include "pkg/tsdb/head_metrics.h"
#include "pkg/tsdb/isolation.h"
#include "pkg/tsdb/mem_postings.h"
#include "pkg/tsdb/mem_series.h"
#include "pkg/tsdb/record/record.h"
#include "pkg/tsdb/series_reclaimer.h"
#include "pkg/tsdb/stripe_series.h"
#include "pkg/tsdb/wlog/wlog.h"
#include "pkg/util/logger.h"
#include "pkg/util/result.h"

namespace prometheus {
class Registry;
}

namespace kiln::tsdb {

struct HeadOptions {
  // Data directory; the WAL lives in dir/wal. May be empty when the WAL is disabled.
  std::string dir;
  bool enable_wal = true;
  // Replays the WAL without opening it for writing or repairing it (kilntool tsdb dump):
  // a corrupt tail is reported and the records before it are kept. Nothing is logged.
  bool read_only = false;
  bool wal_compression = true;
  int64_t wal_segment_size = wlog::kDefaultSegmentSize;
  int64_t chunk_range = 2 * 60 * 60 * 1000;  // ms (--storage.tsdb.min-block-duration)
  int samples_per_chunk = 120;
  // Out-of-order ingestion is not supported yet: must be 0.
  int64_t out_of_order_time_window = 0;
  // Samples below this are out of bounds from the start, and skipped by WAL replay (the DB
  // sets it to the end of its newest block, as upstream's Head.Init(minValidTime)).
  int64_t min_valid_time = std::numeric_limits<int64_t>::min();
  // Number of lock stripes of the series registry; a power of two.
  size_t stripe_size = 16384;
  // Registers the head's metrics here when non-null.
  prometheus::Registry* registry = nullptr;
  Logger logger;
};

// Head-wide figures for /api/v1/status/tsdb.
struct HeadStats {
  uint64_t num_series = 0;
  uint64_t chunk_count = 0;
  int64_t min_time = 0;  // ms; INT64_MAX / INT64_MIN when the head is empty
  int64_t max_time = 0;
  PostingsStats postings;
};

// WAL replay progress for /api/v1/status/walreplay: segment indexes, -1 when unknown.
struct WalReplayProgress {
  int first = -1;
  int last = -1;
  int current = -1;
};

class HeadAppender;
class HeadQuerier;

class Head final : public storage::Appendable, public storage::Queryable {
 public:
  // Opens the head: creates dir/wal if needed and replays it. Returns once ready.
  static Result<std::unique_ptr<Head>> Open(const HeadOptions& options);
  ~Head() override;
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  std::unique_ptr<storage::Appender> NewAppender() override;
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // Flushes and closes the WAL and chunks_head/. The head must not be used afterwards
  // (chunks already handed to queriers stay readable). Idempotent.
  Status Close();

  // Drops in-memory and chunks_head/ data of chunks that end before `mint`, and rejects
  // later appends below `mint` as out of bounds. Queriers already open keep what they
  // selected. Neither removes series nor truncates the WAL (see Truncate). Thread-safe;
  // safe to run during appends and queries.
  Status TruncateChunks(int64_t mint);

  // Upstream's head truncation, once data below `mint` is safe in a block: waits for the
  // queriers open now to finish (they may not see the block yet), drops chunks that end
  // before `mint`, garbage-collects series without samples left, then checkpoints the
  // first two thirds of the WAL segments (keeping live series, samples >= mint, tombstones
  // and metadata) and deletes those segments and older checkpoints. A restart afterwards
  // replays exactly the data at or after `mint`. Thread-safe; truncations run one at a time.
  Status Truncate(int64_t mint);
  // Truncate's two halves (upstream truncateMemory / truncateWAL): the DB truncates the
  // memory after each block it writes and the WAL once per compaction cycle.
  Status TruncateMemory(int64_t mint);
  Status TruncateWal(int64_t mint);

  // Tombstones the samples of series matching `matchers` in [mint, maxt]: logged to the
  // WAL (replayed on start, kept by checkpoints), hidden from queries and head compaction.
  // Thread-safe.
  Status Delete(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& matchers);

  // Time bounds of the samples in the head (INT64_MAX / INT64_MIN while empty).
  int64_t MinTime() const { return min_time_.load(std::memory_order_acquire); }
  int64_t MaxTime() const { return max_time_.load(std::memory_order_acquire); }
  uint64_t NumSeries() const { return num_series_.load(std::memory_order_relaxed); }
  // Top `limit` cardinality figures and head-wide counts.
  HeadStats Stats(size_t limit) const;
  // Segments of the WAL replay (complete once Open returned). Thread-safe.
  WalReplayProgress ReplayProgress() const {
    return {replay_first_.load(), replay_last_.load(), replay_current_.load()};
  }
  // Metadata of the series with these labels, if any was recorded.
  bool GetMetadata(const model::Labels& labels, model::Metadata* out) const;

  // Series unlinked by GC and not freed yet (for tests).
  size_t PendingSeriesFrees() const { return reclaimer_.PendingFrees(); }

  const MemPostings& postings() const { return postings_; }
  const HeadOptions& options() const { return options_; }
  const Isolation& isolation() const { return isolation_; }

 private:
  friend class HeadAppender;
  friend class HeadQuerier;
  friend class WalReplayer;

  explicit Head(const HeadOptions& options);

  // Sets the time bounds from the first sample ever appended (upstream initTime).
  void InitTime(int64_t t);
  bool initialized() const { return MinTime() != std::numeric_limits<int64_t>::max(); }
  void UpdateMinMaxTime(int64_t mint, int64_t maxt);
  // Sets the head_min/max_time gauges from the current bounds.
  void PublishTimeBounds();
  // Lowest timestamp an appender may accept now (upstream appendableMinValidTime).
  int64_t AppendableMinValidTime() const;
  // The series with `labels`, created (and indexed) when absent. `ref` forces the ref of a
  // new series (WAL replay); 0 takes the next free one.
  MemSeries* GetOrCreate(const model::Labels& labels, uint64_t ref, bool* created);
  ChunkOptions chunk_options() const {
    return {options_.chunk_range, options_.samples_per_chunk, chunk_mapper_.get()};
  }

  // REQUIRE: truncate_mu_ held.
  Status TruncateMemoryLocked(int64_t mint);
  Status TruncateWalLocked(int64_t mint);
  // Unlinks series without chunks or pending commits; returns the lowest remaining sample
  // time (INT64_MAX when none). REQUIRES: truncate_mu_.
  int64_t GcSeries();
  // Raises min_valid_time_ to at least `t`.
  void RaiseMinValidTime(int64_t t);

  Status OpenWal();
  // Starts chunks_head/ afresh: full chunks are rebuilt from the WAL during replay.
  Status OpenChunkMapper();

  // Buffers an appender reuses across transactions; pooled so the append path does not
  // allocate once warm.
  struct AppendBuffers {
    std::vector<record::RefSample> samples;
    std::vector<MemSeries*> sample_series;  // parallel to samples
    std::vector<record::RefSeries> series;  // created by this transaction
    std::vector<record::RefMetadata> metadata;
    std::vector<MemSeries*> metadata_series;  // parallel to metadata
    std::string record;                       // WAL record encoding
    void Clear();
  };
  std::unique_ptr<AppendBuffers> GetBuffers();
  void PutBuffers(std::unique_ptr<AppendBuffers> b);

  const HeadOptions options_;
  HeadMetrics metrics_;
  StripeSeries series_;
  MemPostings postings_;
  Isolation isolation_;
  // Declared after series_: retired series are freed before the registry goes.
  // Mutable: const lookups (GetMetadata) register with it too.
  mutable SeriesReclaimer reclaimer_;
  std::unique_ptr<wlog::WL> wal_;  // null when disabled
  // Full chunks in dir/chunks_head; null without a data directory (chunks stay in memory).
  std::unique_ptr<chunks::ChunkDiskMapper> chunk_mapper_;

  std::atomic<int64_t> min_time_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> max_time_{std::numeric_limits<int64_t>::min()};
  // Samples below this are out of bounds regardless of max_time_ (set by future compaction).
  std::atomic<int64_t> min_valid_time_{std::numeric_limits<int64_t>::min()};
  std::atomic<uint64_t> last_series_ref_{0};
  std::atomic<uint64_t> num_series_{0};
  std::atomic<uint64_t> num_chunks_{0};
  std::atomic<int> replay_first_{-1};  // WAL segments being replayed
  std::atomic<int> replay_last_{-1};
  std::atomic<int> replay_current_{-1};

  std::mutex truncate_mu_;  // serialises Truncate
  // WAL truncation already done up to this time (upstream lastWALTruncationTime).
  int64_t last_wal_truncation_time_ =
      std::numeric_limits<int64_t>::min();  // guarded by truncate_mu_
  // Refs of GC'd series → the last WAL segment that may still use them: checkpoints keep
  // their Series records until that segment is checkpointed (upstream's deleted map).
  std::unordered_map<uint64_t, int> wal_expiries_;  // guarded by truncate_mu_

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<AppendBuffers>> pool_;  // guarded by pool_mu_
};

}  // namespace kiln::tsdb
