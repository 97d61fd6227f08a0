// Set operations on materialized postings lists: sorted, duplicate-free vectors of series
// refs, as the head's MemPostings hands them out. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::tsdb {

using PostingsList = std::vector<uint64_t>;

// Refs present in both `a` and `b`.
PostingsList IntersectPostings(const PostingsList& a, const PostingsList& b);
// Refs present in any of `lists`.
PostingsList MergePostings(const std::vector<PostingsList>& lists);
// Refs of `a` that are not in `b`.
PostingsList WithoutPostings(const PostingsList& a, const PostingsList& b);

}  // namespace kiln::tsdb
