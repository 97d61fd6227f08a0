#include "pkg/tsdb/mem_series.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "pkg/util/float_format.h"

namespace kiln::tsdb {

namespace {

// Upstream cuts an XOR chunk before it could exceed chunkenc.MaxBytesPerXORChunk (1024),
// assuming the next sample takes the maximum 19 bytes.
constexpr size_t kMaxBytesPerXorChunk = 1024 - 19;

// End of the chunk-range window `t` falls in (upstream rangeForTimestamp).
int64_t RangeForTimestamp(int64_t t, int64_t width) { return (t / width) * width + width; }

// Upstream computeChunkEndTime: spreads the rest of the window [start, max) over chunks of
// equal size, assuming the chunk (start..cur) is 1/ratio_to_full full.
int64_t ComputeChunkEndTime(int64_t start, int64_t cur, int64_t max, double ratio_to_full) {
  double n =
      static_cast<double>(max - start) / (static_cast<double>(cur - start + 1) * ratio_to_full);
  if (n <= 1) return max;
  return static_cast<int64_t>(static_cast<double>(start) +
                              static_cast<double>(max - start) / std::floor(n));
}

bool SameBits(double a, double b) {
  uint64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y;
}

}  // namespace

void AddDeletedInterval(DeletedIntervals* ivs, record::Interval iv) {
  // Saturating neighbours, so [x, INT64_MAX] still touches what follows.
  auto touches = [](const record::Interval& a, const record::Interval& b) {
    const int64_t a_end = a.maxt == std::numeric_limits<int64_t>::max() ? a.maxt : a.maxt + 1;
    return a.mint <= b.maxt && b.mint <= a_end;
  };
  DeletedIntervals out;
  out.reserve(ivs->size() + 1);
  bool placed = false;
  for (const record::Interval& cur : *ivs) {
    if (touches(cur, iv) || touches(iv, cur)) {
      iv.mint = std::min(iv.mint, cur.mint);
      iv.maxt = std::max(iv.maxt, cur.maxt);
      continue;
    }
    if (!placed && cur.mint > iv.maxt) {
      out.push_back(iv);
      placed = true;
    }
    out.push_back(cur);
  }
  if (!placed) out.push_back(iv);
  *ivs = std::move(out);
}

bool IsDeleted(const DeletedIntervals& ivs, int64_t t) {
  for (const record::Interval& iv : ivs) {
    if (t < iv.mint) return false;
    if (t <= iv.maxt) return true;
  }
  return false;
}

Status MemSeries::Appendable(int64_t t, double v, int64_t min_valid_time) const {
  if (t >= min_valid_time) {
    if (head_chunk_ == nullptr || t > head_maxt_) return Status::OK();
    if (t == head_maxt_) {
      // Exact duplicates happen legitimately (federation, retried remote writes) and are
      // accepted silently; Append drops them.
      if (SameBits(last_value_, v)) return Status::OK();
      return Status::DuplicateSample("duplicate sample for timestamp " + std::to_string(t) +
                                     "; overrides not allowed: existing " +
                                     FormatFloatG(last_value_) + ", new value " + FormatFloatG(v));
    }
  }
  if (t < min_valid_time) return Status::OutOfBounds("out of bounds");
  return Status::OutOfOrder("out of order sample");
}

bool MemSeries::NeedsNewChunk(int64_t t, const ChunkOptions& opts) {
  if (head_chunk_->Bytes().size() > kMaxBytesPerXorChunk) return true;
  const int n = head_samples_;
  if (n == opts.samples_per_chunk / 4) {
    next_at_ = ComputeChunkEndTime(head_mint_, head_maxt_, next_at_, 4);
  }
  return t >= next_at_ || n >= opts.samples_per_chunk * 2;
}

void MemSeries::CloseHeadChunk(const ChunkOptions& opts) {
  int n = head_chunk_->NumSamples();
  if (opts.mapper != nullptr) {
    Result<chunks::ChunkDiskMapperRef> ref =
        opts.mapper->WriteChunk(ref_, head_mint_, head_maxt_, *head_chunk_);
    if (ref.ok()) {
      closed_.push_back({nullptr, *ref, head_mint_, head_maxt_, n});
      return;
    }
    // The disk refused the chunk: keep it in memory; it is still in the WAL.
  }
  // Re-own the bytes exactly: the open chunk's buffer has growth slack.
  closed_.push_back({std::make_shared<chunkenc::XorChunk>(std::string(head_chunk_->Bytes())), 0,
                     head_mint_, head_maxt_, n});
}

void MemSeries::CutNewChunk(int64_t t, const ChunkOptions& opts) {
  if (head_chunk_ != nullptr) CloseHeadChunk(opts);
  head_chunk_ = std::make_unique<chunkenc::XorChunk>();
  // An empty XOR chunk always yields an appender.
  app_ = std::move(head_chunk_->NewAppender()).value();
  head_samples_ = 0;
  head_mint_ = t;
  head_maxt_ = std::numeric_limits<int64_t>::min();
  next_at_ = RangeForTimestamp(t, opts.chunk_range);
}

bool MemSeries::Append(int64_t t, double v, uint64_t append_id, const ChunkOptions& opts,
                       bool* chunk_created) {
  *chunk_created = false;
  if (head_chunk_ != nullptr && t <= head_maxt_) return false;
  if (head_chunk_ == nullptr || NeedsNewChunk(t, opts)) {
    CutNewChunk(t, opts);
    *chunk_created = true;
  }
  app_->Append(t, v);
  ++head_samples_;
  head_maxt_ = t;
  last_value_ = v;
  if (append_id != 0) {
    if (!txs_.empty() && txs_.back().append_id == append_id) {
      txs_.back().samples++;
    } else {
      txs_.push_back({append_id, 1});
    }
  }
  return true;
}

size_t MemSeries::TruncateChunksBefore(int64_t mint) {
  // Hidden samples are always at the tail, so dropping whole chunks at the front keeps
  // every reader's visible count right (Chunks() recomputes the total).
  size_t n = 0;
  while (n < closed_.size() && closed_[n].maxt < mint) ++n;
  if (n > 0) closed_.erase(closed_.begin(), closed_.begin() + static_cast<std::ptrdiff_t>(n));
  size_t dropped = n;
  if (closed_.empty() && head_chunk_ != nullptr && head_maxt_ < mint) {
    head_chunk_.reset();
    app_.reset();
    ++dropped;
  }
  // Isolation runs describe the newest samples; never let them cover more than remain.
  size_t total = head_chunk_ != nullptr ? static_cast<size_t>(head_chunk_->NumSamples()) : 0;
  for (const auto& c : closed_) total += static_cast<size_t>(c.num_samples);
  size_t tagged = 0;
  for (const TxRun& r : txs_) tagged += r.samples;
  while (tagged > total && !txs_.empty()) {
    const size_t excess = tagged - total;
    if (txs_.front().samples <= excess) {
      tagged -= txs_.front().samples;
      txs_.erase_front(1);
    } else {
      txs_.front().samples -= static_cast<uint32_t>(excess);
      tagged = total;
    }
  }
  std::erase_if(deleted_, [mint](const record::Interval& iv) { return iv.maxt < mint; });
  return dropped;
}

void MemSeries::CleanupAppendIDsBelow(uint64_t low_watermark) {
  size_t n = 0;
  while (n < txs_.size() && txs_[n].append_id < low_watermark) ++n;
  if (n > 0) txs_.erase_front(n);
}

void MemSeries::TxRuns::push_back(TxRun r) {
  if (!spilled_ && size_ < kInline) {
    inline_[size_++] = r;
    return;
  }
  if (!spilled_) {
    heap_.assign(inline_, inline_ + size_);
    spilled_ = true;
  }
  heap_.push_back(r);
  ++size_;
}

void MemSeries::TxRuns::erase_front(size_t n) {
  if (!spilled_) {
    static_assert(kInline == 2);
    // No std::copy: it becomes a memmove call, for 16 bytes, on every commit of a series.
    if (n < size_) inline_[0] = inline_[n];
    size_ -= static_cast<uint32_t>(n);
    return;
  }
  heap_.erase(heap_.begin(), heap_.begin() + static_cast<std::ptrdiff_t>(n));
  size_ = static_cast<uint32_t>(heap_.size());
  if (size_ <= kInline) {
    // Back inline; the spill buffer goes too (a series rarely needs it twice).
    std::copy(heap_.begin(), heap_.end(), inline_);
    heap_ = std::vector<TxRun>();
    spilled_ = false;
  }
}

size_t MemSeries::HiddenSamples(const IsolationState& iso) const {
  // Samples sit in commit order, so everything from the first invisible run on is hidden
  // (a later visible run cannot be shown without the gap before it).
  size_t hidden = 0;
  bool hiding = false;
  for (const TxRun& run : txs_) {
    if (!hiding && !iso.Visible(run.append_id)) hiding = true;
    if (hiding) hidden += run.samples;
  }
  return hidden;
}

std::vector<ChunkView> MemSeries::Chunks(int64_t mint, int64_t maxt, const IsolationState* iso,
                                         bool data) const {
  std::vector<ChunkView> out;
  if (head_chunk_ == nullptr) return out;
  size_t total = static_cast<size_t>(head_chunk_->NumSamples());
  for (const auto& c : closed_) total += static_cast<size_t>(c.num_samples);
  const size_t hidden = iso != nullptr ? std::min(total, HiddenSamples(*iso)) : 0;
  const size_t visible = total - hidden;
  // A chunk wholly inside one deleted interval has nothing to show.
  auto wholly_deleted = [this](int64_t cmint, int64_t cmaxt) {
    for (const record::Interval& iv : deleted_) {
      if (iv.mint <= cmint && cmaxt <= iv.maxt) return true;
    }
    return false;
  };
  size_t start = 0;  // index of the chunk's first sample within the series
  for (const auto& c : closed_) {
    size_t n = static_cast<size_t>(c.num_samples);
    size_t limit = visible > start ? std::min(n, visible - start) : 0;
    if (limit > 0 && c.maxt >= mint && c.mint <= maxt && !wholly_deleted(c.mint, c.maxt)) {
      out.push_back({c.chunk, c.mint, c.maxt, static_cast<int>(limit), c.mmap_ref});
    }
    start += n;
  }
  size_t n = static_cast<size_t>(head_chunk_->NumSamples());
  size_t limit = visible > start ? std::min(n, visible - start) : 0;
  if (limit > 0 && head_maxt_ >= mint && head_mint_ <= maxt &&
      !wholly_deleted(head_mint_, head_maxt_)) {
    std::shared_ptr<const chunkenc::Chunk> copy;
    if (data) copy = std::make_shared<chunkenc::XorChunk>(std::string(head_chunk_->Bytes()));
    out.push_back({std::move(copy), head_mint_, head_maxt_, static_cast<int>(limit)});
  }
  return out;
}

int64_t MemSeries::MinTime() const { return closed_.empty() ? head_mint_ : closed_.front().mint; }

void MemSeries::SetMetadata(const model::Metadata& m) {
  if (meta_ == nullptr) {
    meta_ = std::make_unique<model::Metadata>(m);
  } else {
    *meta_ = m;
  }
}

}  // namespace kiln::tsdb
