// Vector and matrix selectors: reading series from storage with lookback, staleness,
// offset and `@`.
#include <algorithm>

#include "promql/evaluator.h"

namespace kiln::promql {

namespace {

// The time a selector looks at for the step `ts`: the `@` time if given, minus the offset.
int64_t RefTime(const parser::VectorSelector& vs, int64_t ts) {
  return (vs.timestamp ? *vs.timestamp : ts) - vs.original_offset;
}

}  // namespace

std::vector<RawSeries> Evaluator::SelectSeries(const parser::VectorSelector& vs, int64_t mint,
                                               int64_t maxt) {
  Result<std::unique_ptr<storage::Querier>> q = settings_.queryable->NewQuerier(mint, maxt);
  if (!q.ok()) throw EvalError{q.status()};
  storage::SelectHints hints;
  hints.start = mint;
  hints.end = maxt;
  std::unique_ptr<storage::SeriesSet> set = (*q)->Select(false, &hints, vs.matchers);
  std::vector<RawSeries> out;
  while (set->Next()) {
    const storage::Series& s = set->At();
    RawSeries rs;
    rs.metric = s.labels();
    std::unique_ptr<chunkenc::Iterator> it = s.Iterator();
    chunkenc::ValueType vt = it->Seek(mint);
    for (; vt != chunkenc::ValueType::kNone; vt = it->Next()) {
      if (vt != chunkenc::ValueType::kFloat) continue;
      auto [t, v] = it->At();
      if (t > maxt) break;
      rs.floats.push_back({t, v});
    }
    if (Status st = it->err(); !st.ok()) throw EvalError{st};
    out.push_back(std::move(rs));
  }
  if (Status st = set->err(); !st.ok()) throw EvalError{st};
  std::sort(out.begin(), out.end(), [](const RawSeries& a, const RawSeries& b) {
    return model::Labels::Compare(a.metric, b.metric) < 0;
  });
  queriers_.push_back(std::move(*q));
  return out;
}

Matrix Evaluator::EvalVectorSelector(const parser::VectorSelector& vs, bool sample_times) {
  int64_t first = RefTime(vs, start_), last = RefTime(vs, end_);
  int64_t lookback = settings_.lookback_delta;
  // A smoothed selector interpolates towards the next sample, up to a lookback ahead.
  int64_t ahead = vs.smoothed ? lookback : 0;
  std::vector<RawSeries> raw =
      SelectSeries(vs, std::min(first, last) - lookback + 1, std::max(first, last) + ahead);
  if (vs.smoothed) {
    for (RawSeries& rs : raw) {
      std::erase_if(rs.floats, [](const FPoint& p) { return model::IsStaleNaN(p.f); });
    }
  }
  Matrix out;
  for (RawSeries& rs : raw) {
    Series s;
    s.metric = std::move(rs.metric);
    const std::vector<FPoint>& f = rs.floats;
    if (!f.empty() && !vs.timestamp) {
      // At most one point per step whose lookback can see a sample: no regrowth.
      const int64_t from = std::max(start_, f.front().t + vs.original_offset);
      const int64_t to = std::min(end_, f.back().t + lookback + vs.original_offset);
      if (to >= from) s.floats.reserve(static_cast<size_t>((to - from) / interval_ + 2));
    }
    // The reference time never decreases from step to step, so a cursor finds each step's
    // latest sample (f[next_idx - 1]) without a search.
    size_t next_idx = 0;
    for (int64_t ts = start_; ts <= end_; ts += interval_) {
      int64_t ref = RefTime(vs, ts);
      while (next_idx < f.size() && f[next_idx].t <= ref) ++next_idx;
      if (next_idx == 0) continue;
      auto it = f.begin() + static_cast<std::ptrdiff_t>(next_idx - 1);
      if (it->t <= ref - lookback || model::IsStaleNaN(it->f)) continue;
      double v = sample_times ? static_cast<double>(it->t) / 1000 : it->f;
      auto next = it + 1;
      if (vs.smoothed && it->t < ref && next != f.end() && next->t < ref + lookback) {
        v = it->f + (next->f - it->f) * static_cast<double>(ref - it->t) /
                        static_cast<double>(next->t - it->t);
      }
      s.floats.push_back({ts, v});
    }
    if (s.floats.empty()) continue;
    AddSamples(static_cast<int64_t>(s.floats.size()));
    out.push_back(std::move(s));
  }
  return out;
}

Matrix Evaluator::EvalMatrixSelectorRaw(const parser::MatrixSelector& ms) {
  const parser::VectorSelector& vs = ms.vs();
  int64_t ref = RefTime(vs, start_);
  if (vs.anchored || vs.smoothed) {
    int64_t lb = settings_.lookback_delta;
    std::vector<RawSeries> raw =
        SelectSeries(vs, ref - ms.range - lb + 1, ref + (vs.smoothed ? lb : 0));
    Matrix out;
    for (RawSeries& rs : raw) {
      std::erase_if(rs.floats, [](const FPoint& p) { return model::IsStaleNaN(p.f); });
      Series s;
      s.metric = std::move(rs.metric);
      s.floats = ExtendFloats(rs.floats, ref - ms.range, ref, vs.smoothed);
      AddSamples(static_cast<int64_t>(s.floats.size()));
      if (!s.floats.empty()) out.push_back(std::move(s));
    }
    return out;
  }
  std::vector<RawSeries> raw = SelectSeries(vs, ref - ms.range + 1, ref);
  Matrix out;
  for (RawSeries& rs : raw) {
    Series s;
    s.metric = std::move(rs.metric);
    for (const FPoint& p : rs.floats) {
      if (p.t > ref - ms.range && !model::IsStaleNaN(p.f)) s.floats.push_back(p);
    }
    AddSamples(static_cast<int64_t>(s.floats.size()));
    if (!s.floats.empty()) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace kiln::promql
