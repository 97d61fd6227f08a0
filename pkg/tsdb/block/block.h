// Block: one persisted block directory (meta.json, index, chunks/, tombstones) opened
// read-only through memory mappings, queryable over any time range.
//
// Thread-safe. Queriers and the series they return hold a reference to the block, so a block
// dropped by its DB (retention, compaction) stays mapped until its last reader is done.
// Delete adds tombstones (under mu_) and rewrites the tombstones file and meta.json; queriers
// opened earlier keep seeing the tombstones they started with.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/storage/querier.h"
#include "pkg/tsdb/block/meta.h"
#include "pkg/tsdb/block/tombstones.h"
#include "pkg/tsdb/chunks/chunk_reader.h"
#include "pkg/tsdb/index/index_reader.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::block {

class Block final : public storage::Queryable, public std::enable_shared_from_this<Block> {
 public:
  static Result<std::shared_ptr<Block>> Open(const std::string& dir);

  BlockMeta meta() const;
  const std::string& dir() const { return dir_; }
  // Bytes on disk: index, chunk segments, tombstones and meta.json.
  uint64_t Size() const { return size_; }
  const index::IndexReader& index() const { return *index_; }
  const chunks::ChunkReader& chunk_reader() const { return *chunks_; }
  // The current tombstones (an immutable snapshot).
  std::shared_ptr<const Tombstones> tombstones() const;

  // A querier over [mint, maxt] (inclusive), applying the tombstones of now.
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // Marks the samples of series matching `matchers` in [mint, maxt] deleted, persisting the
  // tombstones (and numTombstones in meta.json) before returning.
  Status Delete(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& matchers);

 private:
  Block() = default;

  std::string dir_;
  BlockMeta meta_;  // guarded by mu_ after Open (Delete updates numTombstones)
  uint64_t size_ = 0;
  std::unique_ptr<index::IndexReader> index_;
  std::unique_ptr<chunks::ChunkReader> chunks_;
  mutable std::mutex mu_;
  std::shared_ptr<const Tombstones> tombstones_;  // guarded by mu_
};

}  // namespace kiln::tsdb::block
