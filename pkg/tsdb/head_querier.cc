#include "pkg/tsdb/head_querier.h"

#include <algorithm>
#include <mutex>
#include <set>

#include "pkg/storage/series_list.h"
#include "pkg/tsdb/head_series.h"

namespace kiln::tsdb {

namespace {

// Keeps the first `limit` entries (0 = all).
template <typename T>
void ApplyLimit(std::vector<T>* v, int64_t limit) {
  if (limit > 0 && v->size() > static_cast<size_t>(limit)) v->resize(static_cast<size_t>(limit));
}

}  // namespace

HeadQuerier::HeadQuerier(Head* head, int64_t mint, int64_t maxt)
    : head_(head),
      mint_(mint),
      maxt_(maxt),
      iso_(head->isolation_.OpenRead()),
      epoch_(head->reclaimer_.Enter(SeriesReclaimer::Kind::kReader)) {}

HeadQuerier::~HeadQuerier() {
  head_->reclaimer_.Exit(SeriesReclaimer::Kind::kReader, epoch_);
  head_->isolation_.CloseRead(iso_);
}

bool HeadQuerier::Overlaps() const {
  return head_->MinTime() <= maxt_ && head_->MaxTime() >= mint_;
}

std::unique_ptr<storage::SeriesSet> HeadQuerier::Select(
    bool sorted, const storage::SelectHints* hints, const std::vector<model::Matcher>& matchers) {
  std::vector<std::unique_ptr<storage::Series>> out;
  if (!Overlaps()) return std::make_unique<storage::VectorSeriesSet>(std::move(out));
  PostingsList refs = head_->postings_.ForMatchers(matchers);
  // Metadata-only selects (/api/v1/series) need labels, not samples (upstream skips chunks
  // for func "series" too).
  const bool data = hints == nullptr || hints->func != "series";
  out.reserve(refs.size());
  for (uint64_t ref : refs) {
    MemSeries* s = head_->series_.GetByRef(ref);
    if (s == nullptr) continue;
    std::vector<ChunkView> chunks;
    DeletedIntervals deleted;
    {
      std::lock_guard<SpinLock> lock(s->mutex());
      chunks = s->Chunks(mint_, maxt_, &iso_, data);
      deleted = s->deleted();
    }
    if (chunks.empty()) continue;
    if (!data) chunks.clear();
    // Resolve chunks_head/ references outside the series lock.
    for (size_t i = 0; i < chunks.size();) {
      ChunkView& v = chunks[i];
      if (v.chunk != nullptr) {
        ++i;
        continue;
      }
      auto c = head_->chunk_mapper_->Chunk(v.mmap_ref);
      if (!c.ok()) {
        // Truncation may have dropped the chunk since it was listed; its data is in a
        // block by now, which this querier's caller reads too.
        if (v.maxt < head_->min_valid_time_.load()) {
          chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        return std::make_unique<storage::ErrorSeriesSet>(
            c.status().Wrap("read head chunk of series " + s->labels().ToString()));
      }
      v.chunk = std::shared_ptr<const chunkenc::Chunk>(std::move(c).value());
      ++i;
    }
    if (data && chunks.empty()) continue;
    out.push_back(std::make_unique<HeadSeries>(s->labels(), std::move(chunks), mint_, maxt_,
                                               std::move(deleted)));
  }
  // Refs follow creation order, not label order.
  if (sorted) {
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return model::Labels::Compare(a->labels(), b->labels()) < 0;
    });
  }
  if (hints != nullptr) ApplyLimit(&out, hints->limit);
  return std::make_unique<storage::VectorSeriesSet>(std::move(out));
}

Result<std::vector<std::string>> HeadQuerier::LabelValues(
    const std::string& name, const storage::LabelHints& hints,
    const std::vector<model::Matcher>& matchers) {
  std::vector<std::string> values;
  if (!Overlaps()) return values;
  if (matchers.empty()) {
    values = head_->postings_.LabelValues(name);
  } else {
    std::set<std::string, std::less<>> seen;
    for (uint64_t ref : head_->postings_.ForMatchers(matchers)) {
      MemSeries* s = head_->series_.GetByRef(ref);
      if (s == nullptr) continue;
      std::string_view v = s->labels().Get(name);
      if (!v.empty() && seen.find(v) == seen.end()) seen.emplace(v);
    }
    values.assign(seen.begin(), seen.end());
  }
  ApplyLimit(&values, hints.limit);
  return values;
}

Result<std::vector<std::string>> HeadQuerier::LabelNames(
    const storage::LabelHints& hints, const std::vector<model::Matcher>& matchers) {
  std::vector<std::string> names;
  if (!Overlaps()) return names;
  if (matchers.empty()) {
    names = head_->postings_.LabelNames();
  } else {
    std::set<std::string, std::less<>> seen;
    for (uint64_t ref : head_->postings_.ForMatchers(matchers)) {
      MemSeries* s = head_->series_.GetByRef(ref);
      if (s == nullptr) continue;
      for (const auto& l : s->labels()) {
        if (seen.find(l.name) == seen.end()) seen.emplace(l.name);
      }
    }
    names.assign(seen.begin(), seen.end());
  }
  ApplyLimit(&names, hints.limit);
  return names;
}

}  // namespace kiln::tsdb
