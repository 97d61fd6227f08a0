#include "pkg/tsdb/wal_replay.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "pkg/tsdb/wlog/checkpoint.h"

namespace kiln::tsdb {

WalReplayer::WalReplayer(Head* head) : head_(head) {}

WalReplayer::~WalReplayer() = default;

Status WalReplayer::Run(const std::string& wal_dir) {
  shards_ = std::make_unique<ReplayShards>(std::max(1u, std::thread::hardware_concurrency()),
                                           head_->chunk_options());
  Status st = Replay(wal_dir);
  ReplayShards::Totals totals = shards_->Finish();
  shards_.reset();
  KILN_RETURN_IF_ERROR(st);
  head_->UpdateMinMaxTime(totals.mint, totals.maxt);
  head_->num_chunks_.fetch_add(totals.chunks);
  head_->metrics_.chunks.Increment(static_cast<double>(totals.chunks));
  head_->metrics_.chunks_created.Increment(static_cast<double>(totals.chunks));
  head_->options_.logger.Info("WAL records applied",
                              {{"samples", std::to_string(totals.samples)},
                               {"series", std::to_string(head_->NumSeries())}});
  if (unknown_refs_ > 0) {
    head_->options_.logger.Warn("Unknown series references",
                                {{"samples", std::to_string(unknown_refs_)}});
  }
  return Status::OK();
}

Status WalReplayer::Replay(const std::string& wal_dir) {
  int first_segment = -1;
  Result<wlog::CheckpointRef> cp = wlog::LastCheckpoint(wal_dir);
  if (cp.ok()) {
    KILN_ASSIGN_OR_RETURN(auto reader, wlog::Reader::Open({{cp->dir, -1, -1}}));
    KILN_RETURN_IF_ERROR(ReadAll(reader.get()));
    KILN_RETURN_IF_ERROR(reader->err().Wrap("read checkpoint " + cp->dir));
    first_segment = cp->index + 1;
  } else if (!cp.status().Is(StatusCode::kNotFound)) {
    return cp.status().Wrap("find last checkpoint");
  }
  // Segments older than the checkpoint may linger when truncation failed; skip them.
  KILN_ASSIGN_OR_RETURN(auto bounds, wlog::Segments(wal_dir));
  if (first_segment < bounds.first) first_segment = bounds.first;
  head_->replay_first_ = first_segment;
  head_->replay_last_ = bounds.second;
  if (bounds.second >= 0 && first_segment <= bounds.second) {
    KILN_ASSIGN_OR_RETURN(auto reader,
                          wlog::Reader::Open({{wal_dir, first_segment, bounds.second}}));
    KILN_RETURN_IF_ERROR(ReadAll(reader.get()));
    // Only corruption is repaired (truncating the WAL there); anything else — an IO error,
    // zstd records Kiln cannot read — stops startup so no readable data is cut off.
    if (!reader->err().ok() && !reader->err().Is(StatusCode::kCorruption)) {
      return reader->err().Wrap("read WAL");
    }
    if (!reader->err().ok()) {
      const wlog::CorruptionError& c = reader->Corruption();
      head_->options_.logger.Warn("Encountered WAL read error, attempting repair",
                                  {{"err", reader->err().ToString()},
                                   {"segment", std::to_string(c.segment)},
                                   {"offset", std::to_string(c.offset)}});
      if (head_->wal_ != nullptr) {
        KILN_RETURN_IF_ERROR(head_->wal_->Repair(c).Wrap("repair corrupted WAL"));
      }
    }
  }
  head_->replay_current_ = bounds.second;
  return Status::OK();
}

Status WalReplayer::ReadAll(wlog::Reader* reader) {
  while (reader->Next()) {
    KILN_RETURN_IF_ERROR(Apply(reader->Record()));
    head_->replay_current_.store(reader->Segment(), std::memory_order_relaxed);
  }
  return Status::OK();
}

Status WalReplayer::Apply(std::string_view rec) {
  switch (record::GetType(rec)) {
    case record::Type::kSeries:
      series_.clear();
      KILN_RETURN_IF_ERROR(record::DecodeSeries(rec, &series_).Wrap("decode series"));
      ApplySeries();
      break;
    case record::Type::kSamples:
      samples_.clear();
      KILN_RETURN_IF_ERROR(record::DecodeSamples(rec, &samples_).Wrap("decode samples"));
      ApplySamples();
      break;
    case record::Type::kTombstones:
      tombstones_.clear();
      KILN_RETURN_IF_ERROR(record::DecodeTombstones(rec, &tombstones_).Wrap("decode tombstones"));
      ApplyTombstones();
      break;
    case record::Type::kMetadata:
      metadata_.clear();
      KILN_RETURN_IF_ERROR(record::DecodeMetadata(rec, &metadata_).Wrap("decode metadata"));
      ApplyMetadata();
      break;
    default:
      // Exemplars, histograms and markers are not kept by the head yet.
      break;
  }
  return Status::OK();
}

MemSeries* WalReplayer::Lookup(record::HeadSeriesRef ref) const {
  if (ref < dense_.size() && dense_[ref] != nullptr) return dense_[ref];
  if (MemSeries* s = head_->series_.GetByRef(ref)) return s;
  auto it = multi_ref_.find(ref);
  return it == multi_ref_.end() ? nullptr : it->second;
}

void WalReplayer::ApplySeries() {
  for (const record::RefSeries& rs : series_) {
    bool created = false;
    MemSeries* s = head_->GetOrCreate(rs.labels, rs.ref, &created);
    if (!created && s->ref() != rs.ref) multi_ref_[rs.ref] = s;
    if (rs.ref < kDenseRefs) {
      if (rs.ref >= dense_.size()) dense_.resize(std::max<size_t>(rs.ref + 1, dense_.size() * 2));
      dense_[rs.ref] = s;
    }
  }
}

void WalReplayer::ApplySamples() {
  const int64_t min_valid = head_->min_valid_time_.load();
  for (const record::RefSample& smp : samples_) {
    // Already in a block (the WAL is truncated lazily, upstream replays the same way).
    if (smp.t < min_valid) continue;
    MemSeries* s = Lookup(smp.ref);
    if (s == nullptr) {
      ++unknown_refs_;
      continue;
    }
    shards_->Add(s, smp.t, smp.v);
  }
  shards_->Flush();
}

void WalReplayer::ApplyTombstones() {
  const int64_t min_valid = head_->min_valid_time_.load();
  for (const record::RefTombstone& t : tombstones_) {
    MemSeries* s = Lookup(t.ref);
    if (s == nullptr) continue;
    std::lock_guard<SpinLock> lock(s->mutex());
    for (const record::Interval& iv : t.intervals) {
      if (iv.maxt >= min_valid) s->AddDeleted(iv);
    }
  }
}

void WalReplayer::ApplyMetadata() {
  for (const record::RefMetadata& m : metadata_) {
    MemSeries* s = Lookup(m.ref);
    if (s == nullptr) continue;
    std::lock_guard<SpinLock> lock(s->mutex());
    s->SetMetadata({record::FromRecordMetricType(m.type), m.help, m.unit});
  }
}

}  // namespace kiln::tsdb
