// A small in-memory storage::Queryable for the promqltest runner: series loaded by `load`
// commands, kept sorted by labels, matchers applied linearly. Not meant for production
// volumes; the real head replaces it later. Thread-compatible: load, then query.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/value.h"
#include "pkg/storage/querier.h"

namespace kiln::promql::promqltest {

class MemoryStorage final : public storage::Queryable {
 public:
  // Appends samples to the series `labels` (creating it); samples are kept sorted by time,
  // a later sample with an equal timestamp replaces the earlier one.
  void Add(const model::Labels& labels, const std::vector<model::Sample>& samples);
  void Clear() { series_.clear(); }
  size_t NumSeries() const { return series_.size(); }

  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

 private:
  friend class MemoryQuerier;
  struct LabelsLess {
    bool operator()(const model::Labels& a, const model::Labels& b) const {
      return model::Labels::Compare(a, b) < 0;
    }
  };
  std::map<model::Labels, std::vector<model::Sample>, LabelsLess> series_;
};

}  // namespace kiln::promql::promqltest
