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

class Appender {
 public:
  virtual ~Appender() = default;

  // Stages a float sample. `ref` is a hint from an earlier Append (0 if unknown); the
  // returned ref identifies the series for later calls. Errors: kOutOfOrder, kOutOfBounds,
  // kDuplicateSample, kTooOld, kBadData (invalid labels); the transaction stays usable.
  virtual Result<SeriesRef> Append(SeriesRef ref, const model::Labels& labels, int64_t t,
                                   double v) = 0;

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
