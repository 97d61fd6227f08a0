#include "promql/promqltest/memory_storage.h"

#include <algorithm>
#include <set>

#include "pkg/storage/series_list.h"

namespace kiln::promql::promqltest {

// Serves Select from a snapshot-free view of MemoryStorage; the storage must outlive it and
// stay unmodified while it is used.
class MemoryQuerier final : public storage::Querier {
 public:
  MemoryQuerier(const MemoryStorage* st, int64_t mint, int64_t maxt)
      : st_(st), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints* hints,
                                             const std::vector<model::Matcher>& matchers) override {
    std::vector<std::unique_ptr<storage::Series>> out;
    for (const auto& [ls, samples] : st_->series_) {
      if (!model::MatchesAll(matchers, ls)) continue;
      std::vector<model::Sample> in_range;
      for (const model::Sample& s : samples) {
        if (s.t >= mint_ && s.t <= maxt_) in_range.push_back(s);
      }
      if (in_range.empty()) continue;
      out.push_back(std::make_unique<storage::VectorSeries>(ls, std::move(in_range)));
    }
    return std::make_unique<storage::VectorSeriesSet>(std::move(out));
  }

  Result<std::vector<std::string>> LabelValues(
      const std::string& name, const storage::LabelHints& hints,
      const std::vector<model::Matcher>& matchers) override {
    std::set<std::string> vals;
    for (const auto& [ls, samples] : st_->series_) {
      if (!model::MatchesAll(matchers, ls)) continue;
      std::string_view v = ls.Get(name);
      if (!v.empty()) vals.emplace(v);
    }
    return std::vector<std::string>(vals.begin(), vals.end());
  }

  Result<std::vector<std::string>> LabelNames(
      const storage::LabelHints& hints, const std::vector<model::Matcher>& matchers) override {
    std::set<std::string> names;
    for (const auto& [ls, samples] : st_->series_) {
      if (!model::MatchesAll(matchers, ls)) continue;
      for (const auto& l : ls) names.emplace(l.name);
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

 private:
  const MemoryStorage* st_;
  int64_t mint_;
  int64_t maxt_;
};

void MemoryStorage::Add(const model::Labels& labels, const std::vector<model::Sample>& samples) {
  std::vector<model::Sample>& dst = series_[labels];
  for (const model::Sample& s : samples) {
    auto it = std::lower_bound(dst.begin(), dst.end(), s.t,
                               [](const model::Sample& a, int64_t t) { return a.t < t; });
    if (it != dst.end() && it->t == s.t) {
      *it = s;
    } else {
      dst.insert(it, s);
    }
  }
}

Result<std::unique_ptr<storage::Querier>> MemoryStorage::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<storage::Querier>(std::make_unique<MemoryQuerier>(this, mint, maxt));
}

}  // namespace kiln::promql::promqltest
