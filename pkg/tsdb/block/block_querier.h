// BlockQuerier: a storage::Querier over one block and a time range [mint, maxt] (inclusive),
// applying the block's tombstones. Series come out sorted by labels (index order).
//
// Not thread-safe (one querier per query). Series, iterators and SeriesSets it returns keep
// the block alive on their own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/tsdb/block/tombstones.h"

namespace kiln::tsdb::block {

class Block;

class BlockQuerier final : public storage::Querier {
 public:
  BlockQuerier(std::shared_ptr<const Block> block, std::shared_ptr<const Tombstones> tombstones,
               int64_t mint, int64_t maxt)
      : block_(std::move(block)), tombstones_(std::move(tombstones)), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints* hints,
                                             const std::vector<model::Matcher>& matchers) override;
  Result<std::vector<std::string>> LabelValues(
      const std::string& name, const storage::LabelHints& hints,
      const std::vector<model::Matcher>& matchers) override;
  Result<std::vector<std::string>> LabelNames(const storage::LabelHints& hints,
                                              const std::vector<model::Matcher>& matchers) override;

 private:
  std::shared_ptr<const Block> block_;
  std::shared_ptr<const Tombstones> tombstones_;
  const int64_t mint_;
  const int64_t maxt_;
};

}  // namespace kiln::tsdb::block
