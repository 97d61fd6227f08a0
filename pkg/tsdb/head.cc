#include "pkg/tsdb/head.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "pkg/tsdb/head_appender.h"
#include "pkg/tsdb/head_querier.h"
#include "pkg/tsdb/wal_replay.h"
#include "pkg/tsdb/wlog/checkpoint.h"

namespace kiln::tsdb {

void Head::AppendBuffers::Clear() {
  samples.clear();
  sample_series.clear();
  series.clear();
  metadata.clear();
  metadata_series.clear();
}

Head::Head(const HeadOptions& options)
    : options_(options),
      metrics_(options.registry),
      series_(options.stripe_size),
      min_valid_time_(options.min_valid_time) {
  PublishTimeBounds();
}

Head::~Head() { (void)Close(); }

Result<std::unique_ptr<Head>> Head::Open(const HeadOptions& options) {
  if (options.out_of_order_time_window != 0) {
    return Status::Unavailable("out-of-order ingestion is not supported yet");
  }
  if (options.chunk_range <= 0) return Status::BadData("head chunk range must be positive");
  if (options.stripe_size == 0 || (options.stripe_size & (options.stripe_size - 1)) != 0) {
    return Status::BadData("head stripe size must be a power of two");
  }
  std::unique_ptr<Head> head(new Head(options));
  if (!options.dir.empty() && !options.read_only) KILN_RETURN_IF_ERROR(head->OpenChunkMapper());
  if (options.enable_wal) KILN_RETURN_IF_ERROR(head->OpenWal());
  return head;
}

Status Head::OpenWal() {
  if (options_.dir.empty()) return Status::BadData("head: WAL enabled but no directory given");
  wlog::Options wo;
  wo.segment_size = options_.wal_segment_size;
  wo.compress = options_.wal_compression;
  wo.registry = options_.registry;
  std::string wal_dir = options_.dir + "/wal";
  auto start = std::chrono::steady_clock::now();
  if (!options_.read_only) {
    KILN_ASSIGN_OR_RETURN(wal_, wlog::WL::Open(wal_dir, wo, options_.logger));
  }
  WalReplayer replayer(this);
  KILN_RETURN_IF_ERROR(replayer.Run(wal_dir).Wrap("replay WAL"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.replay_duration.Set(secs);
  options_.logger.Info("WAL replay completed", {{"duration", std::to_string(secs) + "s"},
                                                {"series", std::to_string(NumSeries())}});
  return Status::OK();
}

Status Head::OpenChunkMapper() {
  std::string dir = options_.dir + "/chunks_head";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::IOError("remove " + dir + ": " + ec.message());
  KILN_ASSIGN_OR_RETURN(chunk_mapper_, chunks::ChunkDiskMapper::Open(dir));
  return Status::OK();
}

Status Head::Close() {
  Status st;
  if (wal_ != nullptr) {
    st = wal_->Close();
    wal_.reset();
  }
  // Chunks handed to queriers stay valid after Close (they keep their mappings).
  if (chunk_mapper_ != nullptr) {
    Status cst = chunk_mapper_->Close();
    if (st.ok()) st = cst;
    chunk_mapper_.reset();
  }
  return st;
}

std::unique_ptr<storage::Appender> Head::NewAppender() {
  return std::make_unique<HeadAppender>(this);
}

Result<std::unique_ptr<storage::Querier>> Head::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<storage::Querier>(std::make_unique<HeadQuerier>(this, mint, maxt));
}

void Head::InitTime(int64_t t) {
  int64_t unset = std::numeric_limits<int64_t>::max();
  if (!min_time_.compare_exchange_strong(unset, t)) return;
  // Concurrent appenders may already have raised max time.
  int64_t unset_max = std::numeric_limits<int64_t>::min();
  max_time_.compare_exchange_strong(unset_max, t);
}

void Head::UpdateMinMaxTime(int64_t mint, int64_t maxt) {
  if (mint > maxt) return;  // nothing was appended
  int64_t cur = min_time_.load();
  while (mint < cur && !min_time_.compare_exchange_weak(cur, mint)) {
  }
  cur = max_time_.load();
  while (maxt > cur && !max_time_.compare_exchange_weak(cur, maxt)) {
  }
  PublishTimeBounds();
}

void Head::PublishTimeBounds() {
  const auto min = static_cast<double>(MinTime());
  const auto max = static_cast<double>(MaxTime());
  metrics_.min_time.Set(min);
  metrics_.max_time.Set(max);
  metrics_.min_time_seconds.Set(min / 1000);
  metrics_.max_time_seconds.Set(max / 1000);
}

int64_t Head::AppendableMinValidTime() const {
  // Keeps appends out of the half of the chunk range that compaction may be cutting.
  int64_t max = MaxTime();
  int64_t window_end =
      max == std::numeric_limits<int64_t>::min() ? max : max - options_.chunk_range / 2;
  return std::max(window_end, min_valid_time_.load());
}

MemSeries* Head::GetOrCreate(const model::Labels& labels, uint64_t ref, bool* created) {
  auto new_ref = [this, ref]() {
    if (ref == 0) return last_series_ref_.fetch_add(1) + 1;
    // Replay: keep the WAL's ref and make sure later refs are above it.
    uint64_t cur = last_series_ref_.load();
    while (cur < ref && !last_series_ref_.compare_exchange_weak(cur, ref)) {
    }
    return ref;
  };
  MemSeries* s = series_.GetOrCreate(labels.Hash(), labels, new_ref, created);
  if (*created) {
    postings_.Add(s->ref(), s->labels());
    num_series_.fetch_add(1, std::memory_order_relaxed);
    metrics_.series.Increment();
    metrics_.series_created.Increment();
  }
  return s;
}

void Head::RaiseMinValidTime(int64_t t) {
  int64_t cur = min_valid_time_.load();
  while (cur < t && !min_valid_time_.compare_exchange_weak(cur, t)) {
  }
}

Status Head::TruncateChunks(int64_t mint) {
  RaiseMinValidTime(mint);
  uint64_t dropped = 0;
  series_.ForEach([&](MemSeries* s) {
    std::lock_guard<SpinLock> lock(s->mutex());
    dropped += s->TruncateChunksBefore(mint);
  });
  num_chunks_.fetch_sub(dropped);
  metrics_.chunks.Decrement(static_cast<double>(dropped));
  metrics_.chunks_removed.Increment(static_cast<double>(dropped));
  // Nothing below mint is served any more (except open chunks that started earlier).
  int64_t cur = min_time_.load();
  while (cur < mint && cur != std::numeric_limits<int64_t>::max() &&
         !min_time_.compare_exchange_weak(cur, mint)) {
  }
  PublishTimeBounds();
  if (chunk_mapper_ != nullptr) return chunk_mapper_->Truncate(mint).Wrap("truncate chunks_head");
  return Status::OK();
}

Status Head::Truncate(int64_t mint) {
  const bool initialized_before = initialized();
  KILN_RETURN_IF_ERROR(TruncateMemory(mint));
  // An empty head has logged nothing worth checkpointing (upstream skips it too).
  if (!initialized_before) return Status::OK();
  return TruncateWal(mint);
}

Status Head::TruncateMemory(int64_t mint) {
  std::lock_guard<std::mutex> lock(truncate_mu_);
  metrics_.truncations.Increment();
  Status st = TruncateMemoryLocked(mint);
  if (!st.ok()) metrics_.truncations_failed.Increment();
  return st;
}

Status Head::TruncateWal(int64_t mint) {
  std::lock_guard<std::mutex> lock(truncate_mu_);
  return TruncateWalLocked(mint);
}

Status Head::TruncateMemoryLocked(int64_t mint) {
  if (initialized() && MinTime() >= mint && min_valid_time_.load() >= mint) return Status::OK();
  RaiseMinValidTime(mint);
  // A querier opened before the block holding [.., mint) became visible would find the data
  // in neither place once it is dropped here.
  reclaimer_.WaitForCurrentReaders();
  KILN_RETURN_IF_ERROR(TruncateChunks(mint));
  const int64_t actual_min = GcSeries();
  // With data left only above mint (or none), the head starts where appends may start.
  if (actual_min > MinTime()) {
    const int64_t floor = std::min(actual_min, AppendableMinValidTime());
    int64_t cur = min_time_.load();
    while (cur < floor && !min_time_.compare_exchange_weak(cur, floor)) {
    }
    RaiseMinValidTime(floor);
    PublishTimeBounds();
  }
  return Status::OK();
}

int64_t Head::GcSeries() {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<MemSeries>> removed =
      series_.Gc([](const MemSeries& s) { return s.empty() && s.pending_commits() == 0; });
  int64_t actual_min = std::numeric_limits<int64_t>::max();
  series_.ForEach([&](MemSeries* s) {
    std::lock_guard<SpinLock> lock(s->mutex());
    if (!s->empty()) actual_min = std::min(actual_min, s->MinTime());
  });
  if (removed.empty()) {
    metrics_.gc_duration.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return actual_min;
  }
  PostingsList refs;
  std::vector<const model::Labels*> labels;
  refs.reserve(removed.size());
  labels.reserve(removed.size());
  for (const auto& s : removed) {
    refs.push_back(s->ref());
    labels.push_back(&s->labels());
  }
  std::sort(refs.begin(), refs.end());
  postings_.Delete(refs, labels);
  // Samples of these series may still sit in WAL segments up to the current one; their
  // Series records must outlive those segments in checkpoints.
  const int segment = wal_ != nullptr ? wal_->current_segment() : -1;
  for (uint64_t ref : refs) wal_expiries_[ref] = segment;
  num_series_.fetch_sub(removed.size(), std::memory_order_relaxed);
  metrics_.series.Decrement(static_cast<double>(removed.size()));
  metrics_.series_removed.Increment(static_cast<double>(removed.size()));
  reclaimer_.Retire(std::move(removed));
  metrics_.gc_duration.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return actual_min;
}

Status Head::TruncateWalLocked(int64_t mint) {
  if (wal_ == nullptr || mint <= last_wal_truncation_time_) return Status::OK();
  KILN_ASSIGN_OR_RETURN(auto bounds, wal_->Segments());
  auto [first, last] = bounds;
  // A fresh segment, so that a quiet server does not keep more WAL than needed.
  KILN_RETURN_IF_ERROR(wal_->NextSegment().status().Wrap("create new WAL segment"));
  last--;  // the segment written until now stays out of the checkpoint
  if (last < 0) return Status::OK();
  // The lower two thirds of the segments should hold mostly obsolete samples; with fewer
  // than two segments a checkpoint is not worth it.
  last = first + (last - first) * 2 / 3;
  if (last <= first) return Status::OK();
  auto keep = [this, last](record::HeadSeriesRef ref) {
    if (series_.GetByRef(ref) != nullptr) return true;
    auto it = wal_expiries_.find(ref);
    return it != wal_expiries_.end() && it->second > last;
  };
  const auto start = std::chrono::steady_clock::now();
  metrics_.checkpoint_creations.Increment();
  Result<wlog::CheckpointStats> stats =
      wlog::Checkpoint(options_.logger, wal_.get(), first, last, keep, mint);
  if (!stats.ok()) {
    metrics_.checkpoint_creations_failed.Increment();
    return stats.status().Wrap("create checkpoint");
  }
  KILN_RETURN_IF_ERROR(wal_->Truncate(last + 1).Wrap("truncate WAL"));
  std::erase_if(wal_expiries_, [last](const auto& e) { return e.second <= last; });
  metrics_.checkpoint_deletions.Increment();
  if (Status st = wlog::DeleteCheckpoints(wal_->dir(), last); !st.ok()) {
    // Leftover checkpoints only take disk space: replay uses the newest one.
    options_.logger.Error("delete old checkpoints", {{"err", st.ToString()}});
    metrics_.checkpoint_deletions_failed.Increment();
  }
  last_wal_truncation_time_ = mint;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.wal_truncate_duration.Observe(secs);
  options_.logger.Info("WAL checkpoint complete", {{"first", std::to_string(first)},
                                                   {"last", std::to_string(last)},
                                                   {"duration", std::to_string(secs) + "s"}});
  return Status::OK();
}

Status Head::Delete(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& matchers) {
  const uint64_t epoch = reclaimer_.Enter(SeriesReclaimer::Kind::kWriter);
  std::vector<record::RefTombstone> stones;
  std::vector<MemSeries*> targets;
  for (uint64_t ref : postings_.ForMatchers(matchers)) {
    MemSeries* s = series_.GetByRef(ref);
    if (s == nullptr) continue;
    std::lock_guard<SpinLock> lock(s->mutex());
    if (s->empty()) continue;
    // Only the part of the range the series has data in, as upstream.
    const int64_t lo = std::max(mint, s->MinTime());
    const int64_t hi = std::min(maxt, s->MaxTime());
    if (lo > hi) continue;
    stones.push_back({s->ref(), {{lo, hi}}});
    targets.push_back(s);
  }
  Status st;
  if (!stones.empty() && wal_ != nullptr) {
    std::string rec;
    record::EncodeTombstones(stones, &rec);
    st = wal_->Log(std::string_view(rec)).Wrap("write tombstones to WAL");
  }
  if (st.ok()) {
    for (size_t i = 0; i < targets.size(); ++i) {
      std::lock_guard<SpinLock> lock(targets[i]->mutex());
      targets[i]->AddDeleted(stones[i].intervals[0]);
    }
  }
  reclaimer_.Exit(SeriesReclaimer::Kind::kWriter, epoch);
  return st;
}

HeadStats Head::Stats(size_t limit) const {
  HeadStats st;
  st.num_series = NumSeries();
  st.chunk_count = num_chunks_.load(std::memory_order_relaxed);
  st.min_time = MinTime();
  st.max_time = MaxTime();
  st.postings = postings_.Stats(model::kMetricName, limit);
  return st;
}

bool Head::GetMetadata(const model::Labels& labels, model::Metadata* out) const {
  const uint64_t epoch = reclaimer_.Enter(SeriesReclaimer::Kind::kWriter);
  bool found = false;
  if (MemSeries* s = series_.GetByHash(labels.Hash(), labels)) {
    std::lock_guard<SpinLock> lock(s->mutex());
    if (s->metadata() != nullptr) {
      *out = *s->metadata();
      found = true;
    }
  }
  reclaimer_.Exit(SeriesReclaimer::Kind::kWriter, epoch);
  return found;
}

std::unique_ptr<Head::AppendBuffers> Head::GetBuffers() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      auto b = std::move(pool_.back());
      pool_.pop_back();
      return b;
    }
  }
  return std::make_unique<AppendBuffers>();
}

void Head::PutBuffers(std::unique_ptr<AppendBuffers> b) {
  b->Clear();
  std::lock_guard<std::mutex> lock(pool_mu_);
  pool_.push_back(std::move(b));
}

}  // namespace kiln::tsdb
