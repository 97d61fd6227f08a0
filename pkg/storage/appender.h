// Appender: a write transaction against storage. One per batch (a scrape, a remote_write
// request). Samples become visible to queries all at once at Commit().
// Not thread-safe: one goroutine… one thread per appender.
#pragma once

#include <cstdint>

#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/util/result.h"

namespace kiln::storage {

// Opaque handle to a series, valid for the lifetime of the storage that issued it. 0 = none.
using SeriesRef = uint64_t;

// What a caller that appends to the same series over and over (a scrape loop, once per
// scrape) keeps per series between transactions: the ref, plus whatever the storage wants
// to remember to find the series again without a lookup. Zero-initialised = nothing known.
// Only `ref` means anything to the caller; the rest belongs to the storage that filled it.
struct SeriesSlot {
  SeriesRef ref = 0;
  const void* owner = nullptr;
  void* series = nullptr;
  uint64_t generation = 0;
};

class Appender {
 public:
  virtual ~Appender() = default;

  // Stages a float sample. `ref` is a hint from an earlier Append (0 if unknown); the
  // returned ref identifies the series for later calls. Errors: kOutOfOrder, kOutOfBounds,
  // kDuplicateSample, kTooOld, kBadData (invalid labels); the transaction stays usable.
  virtual Result<SeriesRef> Append(SeriesRef ref, const model::Labels& labels, int64_t t,
                                   double v) = 0;

  // Append with `slot` as the ref hint, updated (ref and storage-private state) on success so
  // that the next Append of the series through any appender of the same storage is cheaper.
  // Errors as Append's. The default uses and updates only slot->ref.
  virtual Status AppendCached(SeriesSlot* slot, const model::Labels& labels, int64_t t, double v) {
    Result<SeriesRef> r = Append(slot->ref, labels, t, v);
    if (!r.ok()) return r.status();
    slot->ref = *r;
    return Status::OK();
  }

  // Records metadata for the series' metric family.
  virtual Result<SeriesRef> UpdateMetadata(SeriesRef ref, const model::Labels& labels,
                                           const model::Metadata& meta) = 0;

  // Makes everything staged durable (WAL) and visible, in that order.
  virtual Status Commit() = 0;
  // Discards everything staged.
  virtual Status Rollback() = 0;
};

// Something that hands out appenders. Thread-safe.
class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

}  // namespace kiln::storage
