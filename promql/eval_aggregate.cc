// Aggregation operators: sum, avg, count, min, max, group, stddev, stdvar, quantile,
// topk, bottomk, limitk, limit_ratio, count_values.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "promql/evaluator.h"
#include "promql/kahan.h"
#include "promql/xxhash64.h"

namespace kiln::promql {

namespace {

using parser::AggregateOp;

struct Group {
  model::Labels metric;
  double value = 0;
  double kahan_c = 0;
  double mean = 0;
  double count = 0;
  bool incremental_mean = false;
  bool drop_name = false;
  // topk/bottomk/limitk/limit_ratio members: input series index and value.
  std::vector<std::pair<size_t, double>> members;
  std::vector<double> values;  // quantile inputs
};

model::Labels GroupLabels(const model::Labels& ls, const parser::AggregateExpr& e) {
  if (e.without) {
    std::vector<std::string> names = e.grouping;
    names.emplace_back(model::kMetricName);
    return ls.Without(names);
  }
  return ls.KeepOnly(e.grouping);
}

void AddAvg(Group* g, double f) {
  g->count++;
  if (!g->incremental_mean) {
    auto [v, c] = KahanSumInc(f, g->value, g->kahan_c);
    if (!std::isinf(v)) {
      g->value = v;
      g->kahan_c = c;
      return;
    }
    // The plain sum would overflow: continue with an incremental mean.
    g->incremental_mean = true;
    g->mean = g->value / (g->count - 1);
    g->kahan_c /= g->count - 1;
  }
  if (std::isinf(g->mean)) {
    if (std::isinf(f) && (g->mean > 0) == (f > 0)) return;
    if (!std::isinf(f) && !std::isnan(f)) return;
  }
  double cur = g->mean + g->kahan_c;
  auto [m, c] = KahanSumInc(f / g->count - cur / g->count, g->mean, g->kahan_c);
  g->mean = m;
  g->kahan_c = c;
}

// Starts a group with its first value, as upstream does (no summation step yet). Resets
// every accumulator so a group slot can be reused from one step to the next.
void InitGroup(AggregateOp op, Group* g, double f) {
  g->value = f;
  g->mean = f;
  g->count = 1;
  g->kahan_c = 0;
  g->incremental_mean = false;
  g->values.clear();
  switch (op) {
    case AggregateOp::kCount:
    case AggregateOp::kCountValues:
    case AggregateOp::kGroup:
      g->value = 1;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar:
      // Welford's update from an empty state, so a NaN or Inf input yields NaN.
      g->value = 0;
      g->mean = 0;
      g->count = 0;
      break;
    case AggregateOp::kQuantile:
      g->values.push_back(f);
      break;
    default:
      break;
  }
}

// Adds one value to a group. The k-ops (topk, bottomk, limitk, limit_ratio) keep whole
// samples instead; their callers collect those.
void Accumulate(AggregateOp op, Group* g, double f, bool first) {
  if (first) {
    InitGroup(op, g, f);
    if (op != AggregateOp::kStddev && op != AggregateOp::kStdvar) return;
  }
  switch (op) {
    case AggregateOp::kSum: {
      auto [v, c] = KahanSumInc(f, g->value, g->kahan_c);
      g->value = v;
      g->kahan_c = c;
      break;
    }
    case AggregateOp::kAvg:
      AddAvg(g, f);
      break;
    case AggregateOp::kCount:
    case AggregateOp::kCountValues:
      g->value++;
      break;
    case AggregateOp::kGroup:
      g->value = 1;
      break;
    case AggregateOp::kMin:
      if (g->value > f || std::isnan(g->value)) g->value = f;
      break;
    case AggregateOp::kMax:
      if (g->value < f || std::isnan(g->value)) g->value = f;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: {
      g->count++;
      double delta = f - g->mean;
      g->mean += delta / g->count;
      g->value += delta * (f - g->mean);
      break;
    }
    case AggregateOp::kQuantile:
      g->values.push_back(f);
      break;
    default:
      break;
  }
}

bool IsKOp(AggregateOp op) {
  return op == AggregateOp::kTopK || op == AggregateOp::kBottomK || op == AggregateOp::kLimitK ||
         op == AggregateOp::kLimitRatio;
}

// NaN sorts below every number, as upstream's heaps order them.
bool ValueLess(double a, double b) {
  if (std::isnan(a)) return !std::isnan(b);
  if (std::isnan(b)) return false;
  return a < b;
}

int64_t CheckedK(double k) {
  if (std::isnan(k)) ThrowExecution("Parameter value is NaN");
  if (k >= 9.223372036854775807e18) {
    ThrowExecution("Scalar value " + FormatFloatV(k) + " overflows int64");
  }
  if (k <= -9.223372036854775808e18) {
    ThrowExecution("Scalar value " + FormatFloatV(k) + " underflows int64");
  }
  return static_cast<int64_t>(k);
}

// The fraction of the hash space below a series' label hash (for limit_ratio).
bool RatioSelects(double ratio, const model::Labels& ls) {
  double offset = static_cast<double>(PrometheusLabelsHash(ls)) /
                  static_cast<double>(std::numeric_limits<uint64_t>::max());
  return (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1.0 + ratio);
}

}  // namespace

double Quantile(double q, std::vector<double> values) {
  if (values.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(values.begin(), values.end(), ValueLess);
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

namespace {

// The grouping of an aggregation whose key depends only on the series (all but
// count_values), computed once per evaluation. Each input series
// maps to a group slot; every step then only accumulates into slots by index, so no group
// key is built or hashed per sample (upstream likewise caches the grouping per series).
class SeriesGrouping {
 public:
  SeriesGrouping(const Matrix& in, const parser::AggregateExpr& e) : group_of_(in.size()) {
    std::unordered_map<std::string, size_t> index;
    for (size_t k = 0; k < in.size(); ++k) {
      model::Labels key = GroupLabels(in[k].metric, e);
      auto [it, inserted] = index.try_emplace(key.data(), metrics_.size());
      if (inserted) metrics_.push_back(std::move(key));
      group_of_[k] = it->second;
    }
  }

  size_t group_of(size_t series) const { return group_of_[series]; }
  size_t num_groups() const { return metrics_.size(); }
  const model::Labels& metric(size_t group) const { return metrics_[group]; }

 private:
  std::vector<size_t> group_of_;
  std::vector<model::Labels> metrics_;
};

struct Aggregator {
  const parser::AggregateExpr& e;
  Evaluator* ev;
  std::string count_values_label;

  // Emits the selected members of a k-op group; only those copy their series' labels.
  void EmitK(Group& g, double param, const Matrix& in, int64_t ts, Vector* out) const {
    using Member = std::pair<size_t, double>;
    std::vector<Member>& v = g.members;
    auto emit = [&](const Member& m) {
      const Series& s = in[m.first];
      out->push_back(Sample{s.metric, ts, m.second, nullptr, s.drop_name});
    };
    if (e.op == AggregateOp::kLimitRatio) {
      for (const Member& m : v) {
        if (RatioSelects(param, in[m.first].metric)) emit(m);
      }
      return;
    }
    int64_t k = CheckedK(param);
    if (k < 1) return;
    size_t n = std::min(v.size(), static_cast<size_t>(k));
    if (e.op == AggregateOp::kTopK) {
      std::stable_sort(v.begin(), v.end(), [](const Member& a, const Member& b) {
        return ValueLess(b.second, a.second);
      });
    } else if (e.op == AggregateOp::kBottomK) {
      std::stable_sort(v.begin(), v.end(), [](const Member& a, const Member& b) {
        if (std::isnan(a.second)) return false;
        if (std::isnan(b.second)) return true;
        return a.second < b.second;
      });
    }
    for (size_t i = 0; i < n; ++i) emit(v[i]);
  }

  double Finish(const Group& g, double param) const {
    switch (e.op) {
      case AggregateOp::kSum:
        return g.value + g.kahan_c;
      case AggregateOp::kAvg:
        return g.incremental_mean ? g.mean + g.kahan_c : (g.value + g.kahan_c) / g.count;
      case AggregateOp::kStdvar:
        return g.value / g.count;
      case AggregateOp::kStddev:
        return std::sqrt(g.value / g.count);
      case AggregateOp::kQuantile:
        return Quantile(param, g.values);
      default:
        return g.value;
    }
  }

  void Step(const Vector& in, double param, int64_t ts, Vector* out) const {
    std::unordered_map<std::string, size_t> index;
    std::vector<Group> groups;
    for (const Sample& s : in) {
      model::Labels key = GroupLabels(s.metric, e);
      if (e.op == AggregateOp::kCountValues) {
        model::LabelsBuilder b(key);
        b.Set(count_values_label, FormatFloat(s.f));
        key = b.Build();
      }
      auto [it, inserted] = index.try_emplace(key.data(), groups.size());
      if (inserted) {
        groups.push_back(Group{key});
      }
      Group& g = groups[it->second];
      g.drop_name = g.drop_name || s.drop_name;
      Accumulate(e.op, &g, s.f, inserted);
    }
    for (Group& g : groups) {
      out->push_back(Sample{g.metric, ts, Finish(g, param), nullptr, g.drop_name});
    }
  }
};

}  // namespace

Matrix Evaluator::EvalAggregate(const parser::AggregateExpr& e) {
  Aggregator agg{e, this, ""};
  const parser::Expr* param = nullptr;
  if (e.param != nullptr) {
    if (e.op == AggregateOp::kCountValues) {
      agg.count_values_label = Unwrap(*e.param).As<parser::StringLiteral>().val;
      if (agg.count_values_label.empty() ||
          !model::IsValidLegacyLabelName(agg.count_values_label)) {
        bool valid_utf8 = !agg.count_values_label.empty();
        if (!valid_utf8 || agg.count_values_label.find('\xc5') != std::string::npos)
          ThrowExecution("invalid label name \"" + agg.count_values_label + "\"");
      }
    } else {
      param = e.param.get();
    }
  }
  const int pos = e.param ? e.param->PositionRange().start : e.pos.start;
  // Validates the step's parameter (annotations, errors) and returns the one to use.
  auto step_param = [&](double p) {
    if (e.op == AggregateOp::kQuantile && !(p >= 0 && p <= 1)) {
      annotations().InvalidQuantile(p, pos);
    }
    if (e.op == AggregateOp::kLimitRatio && !(p >= -1 && p <= 1)) {
      if (std::isnan(p)) ThrowExecution("Ratio value is NaN");
      double capped = p < -1 ? -1 : 1;
      annotations().InvalidRatio(p, capped, pos);
      p = capped;
    }
    if (e.op == AggregateOp::kTopK || e.op == AggregateOp::kBottomK ||
        e.op == AggregateOp::kLimitK) {
      CheckedK(p);
    }
    return p;
  };
  if (e.op == AggregateOp::kCountValues) {
    // The group key depends on the value: group per step.
    return RangeEval({e.expr.get(), param}, [&](const auto& a, int64_t ts, Vector* out) {
      double p = step_param(param != nullptr ? (*a[1])[0].f : 0);
      agg.Step(*a[0], p, ts, out);
    });
  }

  // Fixed grouping: walk the input series directly, so no step builds a per-sample vector.
  // Steps are accumulated in blocks: each series' samples for the block's steps are read in
  // one pass (its points are contiguous), instead of visiting every series at every step.
  // A (group, step) slot still receives its inputs in series order, as a per-step walk
  // would, so floating-point results are unchanged.
  const Matrix in = EvalMatrix(*e.expr);
  Matrix params;
  if (param != nullptr) params = EvalMatrix(*param);
  const SeriesGrouping grouping(in, e);
  const size_t num_groups = grouping.num_groups();
  const bool k_op = IsKOp(e.op);
  // Bounds the slots held at once (group × block step) to a few MiB.
  constexpr size_t kMaxSlots = 16384;
  // No more steps than the evaluation has (an instant query has one).
  const int64_t num_steps = interval() > 0 ? (end() - start()) / interval() + 1 : 1;
  const size_t block =
      std::clamp<size_t>(kMaxSlots / std::max<size_t>(num_groups, 1), 1,
                         static_cast<size_t>(std::clamp<int64_t>(num_steps, 1, 64)));
  std::vector<size_t> cursors(in.size(), 0);
  std::vector<Group> slots(num_groups * block);      // slot of (group g, block step j): g*block+j
  std::vector<int64_t> slot_step(slots.size(), -1);  // the step that last used a slot
  std::vector<std::vector<size_t>> order(block);     // per block step: groups by first input
  int64_t step = 0;

  // Accumulates steps [step, step + n) whose first timestamp is ts0.
  auto fill_block = [&](int64_t ts0, size_t n) {
    for (size_t j = 0; j < n; ++j) order[j].clear();
    const int64_t ts_last = ts0 + static_cast<int64_t>(n - 1) * interval();
    for (size_t k = 0; k < in.size(); ++k) {
      const auto& fl = in[k].floats;
      size_t c = cursors[k];
      while (c < fl.size() && fl[c].t < ts0) ++c;
      const size_t gi = grouping.group_of(k);
      for (; c < fl.size() && fl[c].t <= ts_last; ++c) {
        const int64_t d = fl[c].t - ts0;
        if (d != 0 && d % interval() != 0) continue;  // not at a step
        const size_t j = d == 0 ? 0 : static_cast<size_t>(d / interval());
        Group& g = slots[gi * block + j];
        const bool first = slot_step[gi * block + j] != step + static_cast<int64_t>(j);
        if (first) {
          slot_step[gi * block + j] = step + static_cast<int64_t>(j);
          order[j].push_back(gi);
          g.drop_name = false;
        }
        g.drop_name = g.drop_name || in[k].drop_name;
        if (k_op) {
          if (first) g.members.clear();
          g.members.emplace_back(k, fl[c].f);
        } else {
          Accumulate(e.op, &g, fl[c].f, first);
        }
      }
      cursors[k] = c;
    }
  };

  const std::vector<const Matrix*> step_args =
      param != nullptr ? std::vector<const Matrix*>{&params} : std::vector<const Matrix*>{};
  const int64_t before = cur_samples();
  Matrix result = RangeEvalMatrices(step_args, [&](const auto& a, int64_t ts, Vector* out) {
    const double p = step_param(param != nullptr ? (*a[0])[0].f : 0);
    const size_t j = static_cast<size_t>(step) % block;
    if (j == 0) {
      const int64_t remaining = interval() > 0 ? (end() - ts) / interval() + 1 : 1;
      fill_block(ts, static_cast<size_t>(std::min<int64_t>(remaining, block)));
    }
    for (size_t gi : order[j]) {
      Group& g = slots[gi * block + j];
      if (k_op) {
        agg.EmitK(g, p, in, ts, out);
        continue;
      }
      out->push_back(Sample{grouping.metric(gi), ts, agg.Finish(g, p), nullptr, g.drop_name});
    }
    ++step;
  });
  // The inputs are released now; only the output stays in memory (as RangeEval counts).
  int64_t held = 0;
  for (const Matrix* m : std::vector<const Matrix*>{&in, &params}) {
    for (const Series& s : *m) held += static_cast<int64_t>(s.floats.size());
  }
  int64_t produced = 0;
  for (const Series& s : result) produced += static_cast<int64_t>(s.floats.size());
  set_cur_samples(std::max<int64_t>(0, before - held) + produced);
  return result;
}

}  // namespace kiln::promql
