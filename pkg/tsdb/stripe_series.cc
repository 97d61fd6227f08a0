#include "pkg/tsdb/stripe_series.h"

#include <algorithm>

namespace kiln::tsdb {

StripeSeries::StripeSeries(size_t stripes) : mask_(stripes - 1), hashes_(stripes), refs_(stripes) {}

std::vector<StripeSeries::RefEntry>::const_iterator StripeSeries::RefStripe::LowerBound(
    uint64_t ref) const {
  return std::lower_bound(series.begin(), series.end(), ref,
                          [](const RefEntry& e, uint64_t r) { return e.ref < r; });
}

MemSeries* StripeSeries::GetByRef(uint64_t ref) const {
  const RefStripe& s = refs_[ref & mask_];
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.LowerBound(ref);
  return it == s.series.end() || it->ref != ref ? nullptr : it->series.get();
}

MemSeries* StripeSeries::FindLocked(const HashStripe& s, uint64_t hash,
                                    const model::Labels& labels) const {
  auto it = s.unique.find(hash);
  if (it == s.unique.end()) return nullptr;
  if (it->second->labels() == labels) return it->second;
  auto c = s.conflicts.find(hash);
  if (c == s.conflicts.end()) return nullptr;
  for (MemSeries* m : c->second) {
    if (m->labels() == labels) return m;
  }
  return nullptr;
}

MemSeries* StripeSeries::GetByHash(uint64_t hash, const model::Labels& labels) const {
  const HashStripe& s = hashes_[hash & mask_];
  std::lock_guard<std::mutex> lock(s.mu);
  return FindLocked(s, hash, labels);
}

MemSeries* StripeSeries::GetOrCreate(uint64_t hash, const model::Labels& labels,
                                     const std::function<uint64_t()>& new_ref, bool* created) {
  HashStripe& hs = hashes_[hash & mask_];
  std::lock_guard<std::mutex> lock(hs.mu);
  if (MemSeries* m = FindLocked(hs, hash, labels)) {
    *created = false;
    return m;
  }
  uint64_t ref = new_ref();
  auto owned = std::make_unique<MemSeries>(labels, ref);
  MemSeries* m = owned.get();
  {
    RefStripe& rs = refs_[ref & mask_];
    std::lock_guard<std::mutex> ref_lock(rs.mu);
    if (rs.series.empty() || rs.series.back().ref < ref) {
      rs.series.push_back({ref, std::move(owned)});
    } else {
      // WAL replay may create series out of ref order.
      auto it = rs.LowerBound(ref);
      if (it == rs.series.end() || it->ref != ref) rs.series.insert(it, {ref, std::move(owned)});
    }
  }
  auto [it, inserted] = hs.unique.emplace(hash, m);
  if (!inserted) hs.conflicts[hash].push_back(m);
  *created = true;
  return m;
}

std::vector<std::unique_ptr<MemSeries>> StripeSeries::Gc(
    const std::function<bool(const MemSeries&)>& collect) {
  std::vector<std::pair<uint64_t, uint64_t>> candidates;  // (ref, label hash)
  ForEach([&](MemSeries* s) {
    std::lock_guard<SpinLock> lock(s->mutex());
    if (collect(*s)) candidates.emplace_back(s->ref(), s->labels().Hash());
  });
  std::vector<std::unique_ptr<MemSeries>> out;
  for (const auto& [ref, hash] : candidates) {
    HashStripe& hs = hashes_[hash & mask_];
    std::lock_guard<std::mutex> hash_lock(hs.mu);
    RefStripe& rs = refs_[ref & mask_];
    std::lock_guard<std::mutex> ref_lock(rs.mu);
    auto it = rs.series.begin() + (rs.LowerBound(ref) - rs.series.begin());
    if (it == rs.series.end() || it->ref != ref) continue;
    MemSeries* m = it->series.get();
    {
      std::lock_guard<SpinLock> lock(m->mutex());
      if (!collect(*m)) continue;
      m->MarkRemoved();
    }
    auto u = hs.unique.find(hash);
    auto c = hs.conflicts.find(hash);
    if (u != hs.unique.end() && u->second == m) {
      if (c != hs.conflicts.end() && !c->second.empty()) {
        u->second = c->second.back();
        c->second.pop_back();
        if (c->second.empty()) hs.conflicts.erase(c);
      } else {
        hs.unique.erase(u);
      }
    } else if (c != hs.conflicts.end()) {
      std::erase(c->second, m);
      if (c->second.empty()) hs.conflicts.erase(c);
    }
    out.push_back(std::move(it->series));
    rs.series.erase(it);
  }
  if (!out.empty()) gc_generation_.fetch_add(1, std::memory_order_seq_cst);
  return out;
}

void StripeSeries::ForEach(const std::function<void(MemSeries*)>& f) const {
  for (const RefStripe& s : refs_) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (const RefEntry& e : s.series) f(e.series.get());
  }
}

}  // namespace kiln::tsdb
