// The read side of storage: Queryable → Querier(mint, maxt) → Select(…) → SeriesSet.
// PromQL and the HTTP API see storage only through these interfaces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/matcher.h"
#include "pkg/tsdb/chunkenc/iterator.h"
#include "pkg/util/result.h"

namespace kiln::storage {

// One series: its labels and a way to iterate its samples within the querier's range.
class Series {
 public:
  virtual ~Series() = default;
  virtual const model::Labels& labels() const = 0;
  virtual std::unique_ptr<chunkenc::Iterator> Iterator() const = 0;
};

// Sticky-error iterator over series: while (s->Next()) use(s->At()); then s->err().
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true. Valid until the next Next().
  virtual const Series& At() const = 0;
  virtual Status err() const = 0;
  // Non-fatal problems (e.g. a partial response), surfaced as API warnings.
  virtual std::vector<std::string> warnings() const { return {}; }
};

// What the caller intends; storage may use it to prune work. All optional.
struct SelectHints {
  int64_t start = 0;  // ms
  int64_t end = 0;
  int64_t step = 0;
  int64_t range = 0;  // range selector width, ms
  std::string func;   // surrounding function, e.g. "rate", "series" for metadata only
  std::vector<std::string> grouping;
  bool by = false;
  int64_t limit = 0;  // max series, 0 = no limit
};

struct LabelHints {
  int64_t limit = 0;  // 0 = no limit
};

// A view of storage over [mint, maxt]. Not thread-safe; close by destroying it.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series matching all matchers, sorted by labels when `sorted`.
  virtual std::unique_ptr<SeriesSet> Select(bool sorted, const SelectHints* hints,
                                            const std::vector<model::Matcher>& matchers) = 0;
  // Sorted unique values of `name` among series matching `matchers` (all series if empty).
  virtual Result<std::vector<std::string>> LabelValues(
      const std::string& name, const LabelHints& hints,
      const std::vector<model::Matcher>& matchers) = 0;
  // Sorted unique label names among series matching `matchers`.
  virtual Result<std::vector<std::string>> LabelNames(
      const LabelHints& hints, const std::vector<model::Matcher>& matchers) = 0;
};

// Thread-safe factory of queriers.
class Queryable {
 public:
  virtual ~Queryable() = default;
  virtual Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) = 0;
};

}  // namespace kiln::storage
