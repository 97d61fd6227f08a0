// PostingsForMatchers: the series of an index selected by a set of label matchers, with
// Prometheus's semantics (upstream tsdb/querier.go): a matcher that matches the empty string
// also selects series that lack the label, so {a=""} means "no label a" and {a!="x"}
// includes series without a.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/tsdb/index/postings.h"

namespace kiln::tsdb::index {

// What PostingsForMatchers needs from an index: the block's IndexReader implements it, and
// so can the head's in-memory postings. Implementations must be safe for concurrent reads if
// their callers query concurrently.
class PostingsReader {
 public:
  virtual ~PostingsReader() = default;
  // Sorted values of `name`; empty when unknown.
  virtual std::vector<std::string> LabelValues(std::string_view name) const = 0;
  // Series having `name` equal to any of `values`, merged.
  virtual std::unique_ptr<Postings> PostingsFor(std::string_view name,
                                                std::span<const std::string_view> values) const = 0;
  // Every series.
  virtual std::unique_ptr<Postings> AllPostings() const = 0;
};

// Series matching every matcher, as sorted references. No matchers select nothing.
std::unique_ptr<Postings> PostingsForMatchers(const PostingsReader& ix,
                                              std::span<const model::Matcher> matchers);

}  // namespace kiln::tsdb::index
