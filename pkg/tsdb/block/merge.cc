#include "pkg/tsdb/block/merge.h"

#include <algorithm>
#include <limits>

namespace kiln::tsdb::block {
namespace {

using chunkenc::ValueType;

class MergedIterator final : public chunkenc::Iterator {
 public:
  explicit MergedIterator(std::vector<std::unique_ptr<chunkenc::Iterator>> its)
      : its_(std::move(its)), types_(its_.size(), ValueType::kNone) {}

  ValueType Next() override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < its_.size(); i++) types_[i] = its_[i]->Next();
    } else if (cur_ >= 0) {
      const int64_t t = its_[cur_]->AtT();
      if (t < others_min_) {
        // No other source holds t, so only the current one moves; while it stays below the
        // others (blocks of a series do not overlap: nearly always) it remains the pick.
        types_[cur_] = its_[cur_]->Next();
        if (types_[cur_] != ValueType::kNone && its_[cur_]->AtT() < others_min_) {
          return types_[cur_];
        }
        return Pick();
      }
      // Move every source past the sample just returned (duplicates included).
      for (size_t i = 0; i < its_.size(); i++) {
        if (types_[i] != ValueType::kNone && its_[i]->AtT() == t) types_[i] = its_[i]->Next();
      }
    }
    return Pick();
  }

  ValueType Seek(int64_t t) override {
    if (started_ && cur_ >= 0 && its_[cur_]->AtT() >= t) return types_[cur_];
    if (started_ && cur_ < 0) return ValueType::kNone;
    for (size_t i = 0; i < its_.size(); i++) {
      if (!started_ || types_[i] != ValueType::kNone) types_[i] = its_[i]->Seek(t);
    }
    started_ = true;
    return Pick();
  }

  std::pair<int64_t, double> At() const override { return its_[cur_]->At(); }
  int64_t AtT() const override { return its_[cur_]->AtT(); }
  Status err() const override {
    for (const auto& it : its_) {
      if (Status s = it->err(); !s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  // Points cur_ at the source with the lowest current timestamp (the first on ties), and
  // others_min_ at the lowest timestamp among the other sources.
  ValueType Pick() {
    cur_ = -1;
    int64_t best = std::numeric_limits<int64_t>::max();
    others_min_ = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < its_.size(); i++) {
      if (types_[i] == ValueType::kNone) continue;
      const int64_t t = its_[i]->AtT();
      if (cur_ < 0 || t < best) {
        if (cur_ >= 0) others_min_ = best;
        best = t, cur_ = static_cast<int>(i);
      } else {
        others_min_ = std::min(others_min_, t);
      }
    }
    return cur_ < 0 ? ValueType::kNone : types_[cur_];
  }

  std::vector<std::unique_ptr<chunkenc::Iterator>> its_;
  std::vector<ValueType> types_;  // current type per source, kNone when exhausted
  int cur_ = -1;
  // The lowest current timestamp of the sources other than cur_ (max when none is left).
  int64_t others_min_ = std::numeric_limits<int64_t>::max();
  bool started_ = false;
};

// Series of several sources with the same labels. The sources' At() stay valid until the
// merged set advances them, which is also when this series stops being valid.
class MergedSeries final : public storage::Series {
 public:
  const model::Labels& labels() const override { return parts_.front()->labels(); }
  std::unique_ptr<chunkenc::Iterator> Iterator() const override {
    std::vector<std::unique_ptr<chunkenc::Iterator>> its;
    its.reserve(parts_.size());
    for (const auto* p : parts_) its.push_back(p->Iterator());
    return MergeIterators(std::move(its));
  }
  std::vector<const storage::Series*> parts_;
};

class MergedSeriesSet final : public storage::SeriesSet {
 public:
  explicit MergedSeriesSet(std::vector<std::unique_ptr<storage::SeriesSet>> sets)
      : sets_(std::move(sets)), live_(sets_.size(), false) {}

  bool Next() override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < sets_.size(); i++) live_[i] = sets_[i]->Next();
    } else {
      for (size_t i : current_) live_[i] = sets_[i]->Next();
    }
    current_.clear();
    for (size_t i = 0; i < sets_.size(); i++) {
      if (!live_[i]) continue;
      if (current_.empty()) {
        current_.push_back(i);
        continue;
      }
      const int c =
          model::Labels::Compare(sets_[i]->At().labels(), sets_[current_.front()]->At().labels());
      if (c < 0) current_.clear();
      if (c <= 0) current_.push_back(i);
    }
    if (current_.empty() || !err().ok()) return false;
    series_.parts_.clear();
    for (size_t i : current_) series_.parts_.push_back(&sets_[i]->At());
    return true;
  }
  const storage::Series& At() const override {
    if (current_.size() == 1) return sets_[current_.front()]->At();
    return series_;
  }
  Status err() const override {
    for (const auto& s : sets_) {
      if (Status st = s->err(); !st.ok()) return st;
    }
    return Status::OK();
  }
  std::vector<std::string> warnings() const override {
    std::vector<std::string> w;
    for (const auto& s : sets_) {
      for (auto& x : s->warnings()) w.push_back(std::move(x));
    }
    return w;
  }

 private:
  std::vector<std::unique_ptr<storage::SeriesSet>> sets_;
  std::vector<bool> live_;
  std::vector<size_t> current_;  // sets positioned at the current (lowest) labels
  bool started_ = false;
  MergedSeries series_;
};

// Sorted union of sorted string lists, cut to `limit` when positive.
std::vector<std::string> Union(std::vector<std::vector<std::string>> lists, int64_t limit) {
  std::vector<std::string> out;
  for (auto& l : lists) {
    std::vector<std::string> merged;
    std::set_union(out.begin(), out.end(), l.begin(), l.end(), std::back_inserter(merged));
    out = std::move(merged);
  }
  if (limit > 0 && out.size() > static_cast<size_t>(limit)) out.resize(limit);
  return out;
}

}  // namespace

std::unique_ptr<storage::SeriesSet> MergeSeriesSets(
    std::vector<std::unique_ptr<storage::SeriesSet>> sets) {
  if (sets.size() == 1) return std::move(sets.front());
  return std::make_unique<MergedSeriesSet>(std::move(sets));
}

std::unique_ptr<chunkenc::Iterator> MergeIterators(
    std::vector<std::unique_ptr<chunkenc::Iterator>> its) {
  if (its.size() == 1) return std::move(its.front());
  return std::make_unique<MergedIterator>(std::move(its));
}

std::unique_ptr<storage::SeriesSet> MergeQuerier::Select(
    bool sorted, const storage::SelectHints* hints, const std::vector<model::Matcher>& matchers) {
  if (queriers_.size() == 1) return queriers_.front()->Select(sorted, hints, matchers);
  std::vector<std::unique_ptr<storage::SeriesSet>> sets;
  // Merging needs every input sorted, whatever the caller asked for.
  for (auto& q : queriers_) sets.push_back(q->Select(true, hints, matchers));
  return MergeSeriesSets(std::move(sets));
}

Result<std::vector<std::string>> MergeQuerier::LabelValues(
    const std::string& name, const storage::LabelHints& hints,
    const std::vector<model::Matcher>& matchers) {
  std::vector<std::vector<std::string>> lists;
  for (auto& q : queriers_) {
    KILN_ASSIGN_OR_RETURN(auto l, q->LabelValues(name, hints, matchers));
    lists.push_back(std::move(l));
  }
  return Union(std::move(lists), hints.limit);
}

Result<std::vector<std::string>> MergeQuerier::LabelNames(
    const storage::LabelHints& hints, const std::vector<model::Matcher>& matchers) {
  std::vector<std::vector<std::string>> lists;
  for (auto& q : queriers_) {
    KILN_ASSIGN_OR_RETURN(auto l, q->LabelNames(hints, matchers));
    lists.push_back(std::move(l));
  }
  return Union(std::move(lists), hints.limit);
}

}  // namespace kiln::tsdb::block
