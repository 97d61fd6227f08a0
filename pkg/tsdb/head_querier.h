// HeadQuerier: a read view of the Head over [mint, maxt] (storage::Querier).
//
// Takes an isolation state when created, so every Select of one querier sees the same set of
// commits: all those finished before the querier was created, none that were in flight or
// started later. Samples outside [mint, maxt] are trimmed. Selected series hold copies of
// their labels and shared, immutable views of their chunks, so a SeriesSet stays valid while
// appends continue.
//
// Not thread-safe (one querier per thread); the Head must outlive it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/tsdb/head.h"

namespace kiln::tsdb {

class HeadQuerier final : public storage::Querier {
 public:
  HeadQuerier(Head* head, int64_t mint, int64_t maxt);
  ~HeadQuerier() override;

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints* hints,
                                             const std::vector<model::Matcher>& matchers) override;
  Result<std::vector<std::string>> LabelValues(
      const std::string& name, const storage::LabelHints& hints,
      const std::vector<model::Matcher>& matchers) override;
  Result<std::vector<std::string>> LabelNames(const storage::LabelHints& hints,
                                              const std::vector<model::Matcher>& matchers) override;

 private:
  // Whether the head holds any sample in [mint_, maxt_].
  bool Overlaps() const;

  Head* const head_;
  const int64_t mint_;
  const int64_t maxt_;
  const IsolationState iso_;
  // Registration with the head's SeriesReclaimer: series found by ref stay valid.
  const uint64_t epoch_;
};

}  // namespace kiln::tsdb
