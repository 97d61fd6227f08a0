// HeadSeries: one series selected from the head: a copy of its labels and the chunk views
// a querier may read, iterated with trimming to [mint, maxt], isolation limits and deleted
// intervals (tombstones) applied.
// Iterators share the views, so they stay valid after the series (and its set) is gone.
// Thread-compatible (immutable); each Iterator() is independent.
#pragma once

#include <memory>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/tsdb/mem_series.h"

namespace kiln::tsdb {

class HeadSeries final : public storage::Series {
 public:
  HeadSeries(model::Labels labels, std::vector<ChunkView> chunks, int64_t mint, int64_t maxt,
             DeletedIntervals deleted = {})
      : labels_(std::move(labels)),
        chunks_(std::make_shared<const std::vector<ChunkView>>(std::move(chunks))),
        deleted_(std::make_shared<const DeletedIntervals>(std::move(deleted))),
        mint_(mint),
        maxt_(maxt) {}

  const model::Labels& labels() const override { return labels_; }
  std::unique_ptr<chunkenc::Iterator> Iterator() const override;

 private:
  model::Labels labels_;
  std::shared_ptr<const std::vector<ChunkView>> chunks_;
  std::shared_ptr<const DeletedIntervals> deleted_;
  int64_t mint_;
  int64_t maxt_;
};

}  // namespace kiln::tsdb
