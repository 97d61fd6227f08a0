// Postings: iterators over strictly increasing series references, and the set operations the
// head and the block index both answer matchers with.
//
// Iterators are not thread-safe. They follow the sticky-error pattern: Next/Seek return false
// at the end or on error, then err() tells which.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "pkg/util/result.h"

namespace kiln::tsdb::index {

class Postings {
 public:
  virtual ~Postings() = default;
  // Advances to the next reference.
  virtual bool Next() = 0;
  // Advances to the first reference >= v; stays put when the current one already is (also
  // before the first Next, where it positions on the first reference >= v). Never moves back.
  virtual bool Seek(uint64_t v) = 0;
  // REQUIRES: the last Next/Seek returned true.
  virtual uint64_t At() const = 0;
  virtual Status err() const = 0;
};

std::unique_ptr<Postings> EmptyPostings();
std::unique_ptr<Postings> ErrorPostings(Status status);

// Over an owned sorted vector.
std::unique_ptr<Postings> NewListPostings(std::vector<uint64_t> refs);
// Over a borrowed sorted span, which must outlive the iterator.
std::unique_ptr<Postings> NewSpanPostings(std::span<const uint64_t> refs);
// Over borrowed 4-byte big-endian references (the index file's postings list body).
// REQUIRES: data.size() % 4 == 0.
std::unique_ptr<Postings> NewBigEndianPostings(std::string_view data);

// References present in every input. No inputs gives an empty result.
std::unique_ptr<Postings> Intersect(std::vector<std::unique_ptr<Postings>> its);
// References present in any input, each once.
std::unique_ptr<Postings> Merge(std::vector<std::unique_ptr<Postings>> its);
// References in `full` but not in `drop`.
std::unique_ptr<Postings> Without(std::unique_ptr<Postings> full, std::unique_ptr<Postings> drop);

// Drains `p` into a vector, or returns its error.
Result<std::vector<uint64_t>> ExpandPostings(Postings* p);

}  // namespace kiln::tsdb::index
