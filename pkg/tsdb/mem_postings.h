// MemPostings: the head's inverted index, label name → label value → sorted series refs,
// plus the "all postings" list under the empty name and value (upstream's AllPostingsKey).
//
// Lists are kept sorted and duplicate-free. Refs are handed out in increasing order, so an
// Add almost always appends at the end; a racing creator that lost the race for the lock
// inserts a few places from the end.
//
// Thread-safe: one reader/writer lock; readers copy the lists they need.
#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/matcher.h"
#include "pkg/tsdb/postings_list.h"

namespace kiln::tsdb {

// One row of a cardinality report: a name (a label name, a metric name, or "name=value")
// and a count.
struct PostingsStat {
  std::string name;
  uint64_t count = 0;
};

// Top-N cardinality figures, as /api/v1/status/tsdb reports them.
struct PostingsStats {
  std::vector<PostingsStat> series_count_by_metric_name;
  std::vector<PostingsStat> label_value_count_by_label_name;
  std::vector<PostingsStat> memory_in_bytes_by_label_name;  // sum of value lengths
  std::vector<PostingsStat> series_count_by_label_value_pair;
  uint64_t num_label_pairs = 0;
};

class MemPostings {
 public:
  MemPostings() = default;
  MemPostings(const MemPostings&) = delete;
  MemPostings& operator=(const MemPostings&) = delete;

  // Indexes series `ref` under each of its label pairs and the all-postings key.
  void Add(uint64_t ref, const model::Labels& labels);

  // Removes the series `refs` (sorted) from the index; `labels` are their label sets (any
  // order), which name the lists to edit. Emptied values and names disappear. One pass
  // over each touched list, so GC of many series stays linear.
  void Delete(const PostingsList& refs, const std::vector<const model::Labels*>& labels);

  // The refs of series with label name=value (empty when there are none).
  PostingsList Get(std::string_view name, std::string_view value) const;
  // Every indexed ref.
  PostingsList All() const;
  // Union of the lists of every value of `name` for which `pred(value)` holds.
  PostingsList Matching(std::string_view name,
                        const std::function<bool(std::string_view)>& pred) const;
  // Refs of series selected by `matchers`, with Prometheus's semantics: a matcher that
  // matches the empty string also selects series without the label. No matchers = all.
  PostingsList ForMatchers(const std::vector<model::Matcher>& matchers) const;

  // Sorted label names / values of `name`.
  std::vector<std::string> LabelNames() const;
  std::vector<std::string> LabelValues(std::string_view name) const;
  // Number of distinct values of `name`.
  size_t ValueCount(std::string_view name) const;

  // Top `limit` entries of each report; `metric_label` names the label whose values count
  // as metric names (normally __name__).
  PostingsStats Stats(std::string_view metric_label, size_t limit) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using ValueMap = std::unordered_map<std::string, PostingsList, StringHash, std::equal_to<>>;
  using NameMap = std::unordered_map<std::string, ValueMap, StringHash, std::equal_to<>>;

  static void AddRef(PostingsList* list, uint64_t ref);
  // Postings of one matcher that does not match "" (an intersecting term).
  PostingsList ForPositiveLocked(const model::Matcher& m) const;
  // Series to remove for a matcher that matches "": those whose value fails it.
  PostingsList ForNegativeLocked(const model::Matcher& m) const;
  PostingsList MatchingLocked(std::string_view name,
                              const std::function<bool(std::string_view)>& pred) const;

  mutable std::shared_mutex mu_;
  NameMap m_;  // guarded by mu_
};

}  // namespace kiln::tsdb
