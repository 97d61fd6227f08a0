// HeadAppender: one write transaction against the Head (storage::Appender).
//
// Append validates each sample against the committed state of its series and stages it;
// Commit logs Series, Metadata and Samples records to the WAL (in that order, as upstream),
// then applies the samples under one isolation append ID. Samples that became invalid
// between Append and Commit (another transaction got there first) are dropped and counted,
// as upstream does. Series are created at Append time and survive Rollback (their Series
// record is still logged, so WAL refs stay resolvable). A series with staged samples is
// marked as pending a commit, so head GC leaves it alone until Commit or Rollback.
//
// Not thread-safe: one thread per appender.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>

#include "pkg/storage/appender.h"
#include "pkg/tsdb/head.h"

namespace kiln::tsdb {

class HeadAppender final : public storage::Appender {
 public:
  explicit HeadAppender(Head* head);
  // Rolls back when neither Commit nor Rollback was called.
  ~HeadAppender() override;

  Result<storage::SeriesRef> Append(storage::SeriesRef ref, const model::Labels& labels, int64_t t,
                                    double v) override;
  // Remembers the MemSeries* in the slot: a later appender uses it without a lookup as long
  // as no head GC unlinked series in between (see StripeSeries::gc_generation).
  Status AppendCached(storage::SeriesSlot* slot, const model::Labels& labels, int64_t t,
                      double v) override;
  Result<storage::SeriesRef> UpdateMetadata(storage::SeriesRef ref, const model::Labels& labels,
                                            const model::Metadata& meta) override;
  Status Commit() override;
  Status Rollback() override;

 private:
  // Resolves `ref` or `labels` to a series, creating it if needed (validating the labels).
  Result<MemSeries*> GetOrCreate(storage::SeriesRef ref, const model::Labels& labels);
  // Both Appends: stages (t, v) for `s` when non-null (a series still safe to dereference),
  // else for the series GetOrCreate(ref, labels) finds.
  Result<MemSeries*> Stage(MemSeries* s, storage::SeriesRef ref, const model::Labels& labels,
                           int64_t t, double v);
  // Computes the appendable window on first use (the head's bounds may be set by it).
  void InitBounds(int64_t t);
  // Writes the staged records to the WAL.
  Status Log();
  Status LogSeriesOnly();
  // Applies the staged samples and metadata; returns after EndAppend.
  void Apply();
  void Release();

  Head* const head_;
  // Registration with the head's SeriesReclaimer: the staged MemSeries* stay valid.
  const uint64_t epoch_;
  // The series registry's GC generation, read after registering: slots stamped with it
  // hold series this appender may dereference.
  const uint64_t gc_generation_;
  std::unique_ptr<Head::AppendBuffers> buf_;
  bool bounds_set_ = false;
  bool closed_ = false;
  int64_t min_valid_time_ = 0;
  int64_t mint_ = std::numeric_limits<int64_t>::max();
  int64_t maxt_ = std::numeric_limits<int64_t>::min();
};

}  // namespace kiln::tsdb
