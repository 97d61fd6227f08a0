// Annotations: the warnings and infos a query returns beside its result, with Prometheus's
// exact texts (util/annotations in upstream), so API clients and tests see the same strings.
// Each annotation records the byte offset in the query of the expression that caused it; it
// renders as "<text> (line:col)". Deduplicated by rendered text. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::promql {

class Annotations {
 public:
  enum class Kind { kWarning, kInfo };
  struct Entry {
    Kind kind;
    std::string text;  // without the position suffix
    int pos = -1;      // byte offset into the query, -1 when unknown
  };

  void Add(Kind kind, std::string text, int pos);
  void Merge(const Annotations& other);
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // Rendered texts ("PromQL warning: … (1:5)") of each kind; `query` locates positions.
  std::vector<std::string> Warnings(std::string_view query) const;
  std::vector<std::string> Infos(std::string_view query) const;

  // Factories, one per upstream annotation. `pos` is the offending node's start offset.
  void InvalidQuantile(double q, int pos);
  void InvalidRatio(double ratio, double capped, int pos);
  void BadBucketLabel(std::string_view metric, std::string_view le, int pos);
  void MixedFloatsHistograms(std::string_view metric, int pos);
  void MixedFloatsHistogramsAgg(int pos);
  void MixedClassicNativeHistograms(std::string_view metric, int pos);
  void PossibleNonCounter(std::string_view metric, int pos);
  void PossibleNonCounterLabel(std::string_view metric, std::string_view type_label, int pos);
  void HistogramQuantileForcedMonotonicity(std::string_view metric, int pos);
  void IncompatibleTypesInBinOp(std::string_view lhs, std::string_view op, std::string_view rhs,
                                int pos);
  void HistogramIgnoredInAggregation(std::string_view aggr, int pos);
  void HistogramIgnoredInMixedRange(std::string_view metric, int pos);
  void SortIneffectiveInRangeQuery(int pos);

 private:
  std::vector<std::string> Render(Kind kind, std::string_view query) const;
  std::vector<Entry> entries_;
};

// "line:col" (1-based) of byte offset `pos` in `query`.
std::string PositionString(std::string_view query, int pos);

}  // namespace kiln::promql
