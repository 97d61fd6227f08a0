#include "pkg/tsdb/postings_list.h"

#include <algorithm>
#include <iterator>
#include <queue>

namespace kiln::tsdb {

PostingsList IntersectPostings(const PostingsList& a, const PostingsList& b) {
  const PostingsList& small = a.size() <= b.size() ? a : b;
  const PostingsList& large = a.size() <= b.size() ? b : a;
  PostingsList out;
  if (small.empty()) return out;
  // Galloping through the large list pays off when the sizes differ a lot (a rare label
  // value intersected with a common one); a linear merge is faster otherwise.
  if (small.size() * 16 < large.size()) {
    auto it = large.begin();
    for (uint64_t ref : small) {
      it = std::lower_bound(it, large.end(), ref);
      if (it == large.end()) break;
      if (*it == ref) out.push_back(ref);
    }
    return out;
  }
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

PostingsList MergePostings(const std::vector<PostingsList>& lists) {
  PostingsList out;
  if (lists.empty()) return out;
  if (lists.size() == 1) return lists[0];
  if (lists.size() == 2) {
    std::set_union(lists[0].begin(), lists[0].end(), lists[1].begin(), lists[1].end(),
                   std::back_inserter(out));
    return out;
  }
  // k-way merge with a min-heap of (head value, list index, position).
  struct Cursor {
    uint64_t ref;
    size_t list;
    size_t pos;
    bool operator>(const Cursor& o) const { return ref > o.ref; }
  };
  std::priority_queue<Cursor, std::vector<Cursor>, std::greater<Cursor>> heap;
  size_t total = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    total += lists[i].size();
    if (!lists[i].empty()) heap.push({lists[i][0], i, 0});
  }
  out.reserve(total);
  while (!heap.empty()) {
    Cursor c = heap.top();
    heap.pop();
    if (out.empty() || out.back() != c.ref) out.push_back(c.ref);
    if (c.pos + 1 < lists[c.list].size()) heap.push({lists[c.list][c.pos + 1], c.list, c.pos + 1});
  }
  return out;
}

PostingsList WithoutPostings(const PostingsList& a, const PostingsList& b) {
  PostingsList out;
  if (b.empty()) return a;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace kiln::tsdb
