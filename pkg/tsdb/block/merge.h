// Merging several sources into one: series with equal labels from different SeriesSets become
// one series whose samples are the union by timestamp (a sample present in several sources,
// as when blocks overlap or a block and the head hold the same data, appears once). Used for
// DB queries over blocks + head and for compacting blocks.
//
// Not thread-safe. Series from a merged set are valid until its next Next(), like any
// SeriesSet; their iterators stay valid as long as the sources' iterators do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pkg/storage/querier.h"

namespace kiln::tsdb::block {

// REQUIRES: each set yields series sorted by labels. With one set, returns it unchanged.
std::unique_ptr<storage::SeriesSet> MergeSeriesSets(
    std::vector<std::unique_ptr<storage::SeriesSet>> sets);

// An iterator over the union of `its` by timestamp; for equal timestamps the earliest
// iterator in the list wins.
std::unique_ptr<chunkenc::Iterator> MergeIterators(
    std::vector<std::unique_ptr<chunkenc::Iterator>> its);

// A querier over the union of `queriers` (series merged as above, label names and values
// united). With one querier, behaves exactly as it.
class MergeQuerier final : public storage::Querier {
 public:
  explicit MergeQuerier(std::vector<std::unique_ptr<storage::Querier>> queriers)
      : queriers_(std::move(queriers)) {}

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints* hints,
                                             const std::vector<model::Matcher>& matchers) override;
  Result<std::vector<std::string>> LabelValues(
      const std::string& name, const storage::LabelHints& hints,
      const std::vector<model::Matcher>& matchers) override;
  Result<std::vector<std::string>> LabelNames(const storage::LabelHints& hints,
                                              const std::vector<model::Matcher>& matchers) override;

 private:
  std::vector<std::unique_ptr<storage::Querier>> queriers_;
};

}  // namespace kiln::tsdb::block
