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
  std::vector<Sample> samples;  // topk/bottomk/limitk/limit_ratio/quantile members
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

// Starts a group with its first sample, as upstream does (no summation step yet).
void InitGroup(AggregateOp op, Group* g, const Sample& s) {
  g->value = s.f;
  g->mean = s.f;
  g->count = 1;
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
    case AggregateOp::kTopK:
    case AggregateOp::kBottomK:
    case AggregateOp::kLimitK:
    case AggregateOp::kLimitRatio:
    case AggregateOp::kQuantile:
      g->samples.push_back(s);
      break;
    default:
      break;
  }
}

void Accumulate(AggregateOp op, Group* g, const Sample& s, bool first) {
  if (first) {
    InitGroup(op, g, s);
    if (op != AggregateOp::kStddev && op != AggregateOp::kStdvar) return;
  }
  double f = s.f;
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
    default:
      g->samples.push_back(s);
      break;
  }
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

struct Aggregator {
  const parser::AggregateExpr& e;
  Evaluator* ev;
  std::string count_values_label;

  void EmitK(Group& g, double param, Vector* out) const {
    std::vector<Sample>& v = g.samples;
    if (e.op == AggregateOp::kLimitRatio) {
      for (Sample& s : v) {
        if (RatioSelects(param, s.metric)) out->push_back(std::move(s));
      }
      return;
    }
    int64_t k = CheckedK(param);
    if (k < 1) return;
    size_t n = std::min(v.size(), static_cast<size_t>(k));
    if (e.op == AggregateOp::kTopK) {
      std::stable_sort(v.begin(), v.end(),
                       [](const Sample& a, const Sample& b) { return ValueLess(b.f, a.f); });
    } else if (e.op == AggregateOp::kBottomK) {
      std::stable_sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) {
        if (std::isnan(a.f)) return false;
        if (std::isnan(b.f)) return true;
        return a.f < b.f;
      });
    }
    for (size_t i = 0; i < n; ++i) out->push_back(std::move(v[i]));
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
      case AggregateOp::kQuantile: {
        std::vector<double> vals;
        for (const Sample& s : g.samples) vals.push_back(s.f);
        return Quantile(param, std::move(vals));
      }
      default:
        return g.value;
    }
  }

  void Step(const Vector& in, double param, int64_t ts, Vector* out) const {
    std::unordered_map<std::string, size_t> index;
    std::vector<Group> groups;
    bool k_op = e.op == AggregateOp::kTopK || e.op == AggregateOp::kBottomK ||
                e.op == AggregateOp::kLimitK || e.op == AggregateOp::kLimitRatio;
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
      Accumulate(e.op, &g, s, inserted);
    }
    for (Group& g : groups) {
      if (k_op) {
        EmitK(g, param, out);
        continue;
      }
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
  int pos = e.param ? e.param->PositionRange().start : e.pos.start;
  return RangeEval({e.expr.get(), param}, [&](const auto& a, int64_t ts, Vector* out) {
    double p = param != nullptr ? (*a[1])[0].f : 0;
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
    agg.Step(*a[0], p, ts, out);
  });
}

}  // namespace kiln::promql
