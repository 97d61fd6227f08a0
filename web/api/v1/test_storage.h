// Test-only: an in-memory Queryable over fixed series, with Prometheus's selection rules
// (all matchers must match; a missing label matches as ""), for handler tests.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/storage/series_list.h"

namespace kiln::web::api::v1 {

struct TestSeries {
  model::Labels labels;
  std::vector<model::Sample> samples;
};

class TestQuerier final : public storage::Querier {
 public:
  TestQuerier(const std::vector<TestSeries>* series, int64_t mint, int64_t maxt)
      : series_(series), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints*,
                                             const std::vector<model::Matcher>& matchers) override {
    std::vector<std::unique_ptr<storage::Series>> out;
    for (const auto* s : Matching(matchers)) {
      std::vector<model::Sample> in_range;
      for (const auto& smp : s->samples) {
        if (smp.t >= mint_ && smp.t <= maxt_) in_range.push_back(smp);
      }
      if (!in_range.empty()) {
        out.push_back(std::make_unique<storage::VectorSeries>(s->labels, std::move(in_range)));
      }
    }
    if (sorted) {
      std::sort(out.begin(), out.end(),
                [](const auto& a, const auto& b) { return a->labels() < b->labels(); });
    }
    return std::make_unique<storage::VectorSeriesSet>(std::move(out));
  }

  Result<std::vector<std::string>> LabelValues(
      const std::string& name, const storage::LabelHints&,
      const std::vector<model::Matcher>& matchers) override {
    std::set<std::string> vals;
    for (const auto* s : Matching(matchers)) {
      if (HasSampleInRange(*s) && s->labels.Has(name))
        vals.insert(std::string(s->labels.Get(name)));
    }
    return std::vector<std::string>(vals.begin(), vals.end());
  }

  Result<std::vector<std::string>> LabelNames(
      const storage::LabelHints&, const std::vector<model::Matcher>& matchers) override {
    std::set<std::string> names;
    for (const auto* s : Matching(matchers)) {
      if (!HasSampleInRange(*s)) continue;
      for (const auto& l : s->labels) names.insert(std::string(l.name));
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

 private:
  bool HasSampleInRange(const TestSeries& s) const {
    return std::any_of(s.samples.begin(), s.samples.end(),
                       [this](const auto& smp) { return smp.t >= mint_ && smp.t <= maxt_; });
  }
  std::vector<const TestSeries*> Matching(const std::vector<model::Matcher>& ms) const {
    std::vector<const TestSeries*> out;
    for (const auto& s : *series_) {
      if (model::MatchesAll(ms, s.labels)) out.push_back(&s);
    }
    return out;
  }

  const std::vector<TestSeries>* series_;
  int64_t mint_;
  int64_t maxt_;
};

class TestQueryable final : public storage::Queryable {
 public:
  explicit TestQueryable(std::vector<TestSeries> series) : series_(std::move(series)) {}
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override {
    return std::unique_ptr<storage::Querier>(std::make_unique<TestQuerier>(&series_, mint, maxt));
  }
  const std::vector<TestSeries>& series() const { return series_; }

 private:
  std::vector<TestSeries> series_;
};

}  // namespace kiln::web::api::v1
