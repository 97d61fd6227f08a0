// Binary operators: arithmetic, comparisons (with and without `bool`), set operators, and
// vector matching (on/ignoring, group_left/group_right).
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "promql/evaluator.h"

namespace kiln::promql {

namespace {

using parser::BinaryOp;

bool DropsName(BinaryOp op) { return !parser::IsComparisonOp(op) && !parser::IsSetOp(op); }

// Applies `op`; returns whether a comparison holds (always true for arithmetic). For
// comparisons the value is the left operand.
bool ApplyOp(BinaryOp op, double l, double r, double* out) {
  *out = l;
  switch (op) {
    case BinaryOp::kAdd:
      *out = l + r;
      return true;
    case BinaryOp::kSub:
      *out = l - r;
      return true;
    case BinaryOp::kMul:
      *out = l * r;
      return true;
    case BinaryOp::kDiv:
      *out = l / r;
      return true;
    case BinaryOp::kPow:
      *out = std::pow(l, r);
      return true;
    case BinaryOp::kMod:
      *out = std::fmod(l, r);
      return true;
    case BinaryOp::kAtan2:
      *out = std::atan2(l, r);
      return true;
    case BinaryOp::kEql:
      return l == r;
    case BinaryOp::kNeq:
      return l != r;
    case BinaryOp::kGtr:
      return l > r;
    case BinaryOp::kLss:
      return l < r;
    case BinaryOp::kGte:
      return l >= r;
    case BinaryOp::kLte:
      return l <= r;
    default:
      ThrowExecution("operator not allowed on these operand types");
  }
}

// The labels that decide whether two samples match.
model::Labels MatchKeyLabels(const model::Labels& ls, const parser::VectorMatching& m) {
  if (m.on) return ls.KeepOnly(m.matching_labels);
  std::vector<std::string> names = m.matching_labels;
  names.emplace_back(model::kMetricName);
  return ls.Without(names);
}

std::string MatchKey(const model::Labels& ls, const parser::VectorMatching& m) {
  return MatchKeyLabels(ls, m).data();
}

void SetOp(BinaryOp op, const Vector& lhs, const Vector& rhs, const parser::VectorMatching& m,
           Vector* out) {
  std::unordered_set<std::string> rsigs;
  for (const Sample& s : rhs) rsigs.insert(MatchKey(s.metric, m));
  switch (op) {
    case BinaryOp::kAnd:
      for (const Sample& s : lhs) {
        if (rsigs.count(MatchKey(s.metric, m))) out->push_back(s);
      }
      return;
    case BinaryOp::kUnless:
      for (const Sample& s : lhs) {
        if (!rsigs.count(MatchKey(s.metric, m))) out->push_back(s);
      }
      return;
    default: {
      std::unordered_set<std::string> lsigs;
      for (const Sample& s : lhs) {
        lsigs.insert(MatchKey(s.metric, m));
        out->push_back(s);
      }
      for (const Sample& s : rhs) {
        if (!lsigs.count(MatchKey(s.metric, m))) out->push_back(s);
      }
    }
  }
}

model::Labels ResultMetric(const model::Labels& l, const model::Labels& r, BinaryOp op,
                           const parser::VectorMatching& m, bool delayed) {
  model::LabelsBuilder b(l);
  if (DropsName(op) && !delayed) {
    for (const std::string& n : kNameAndMetadataLabels) b.Del(n);
  }
  if (m.card == parser::VectorMatchCardinality::kOneToOne) {
    if (m.on) {
      b.Keep(m.matching_labels);
    } else {
      for (const std::string& n : m.matching_labels) b.Del(n);
    }
  }
  for (const std::string& n : m.include) {
    b.Set(n, r.Get(n));
  }
  return b.Build();
}

struct VectorBinop {
  BinaryOp op;
  const parser::VectorMatching& m;
  bool return_bool;
  bool delayed;

  void operator()(Vector lhs, Vector rhs, Vector* out) const {
    bool one_to_many = m.card == parser::VectorMatchCardinality::kOneToMany;
    if (one_to_many) std::swap(lhs, rhs);
    std::unordered_map<std::string, const Sample*> right;
    for (const Sample& rs : rhs) {
      std::string sig = MatchKey(rs.metric, m);
      auto [it, inserted] = right.emplace(sig, &rs);
      if (!inserted) {
        const model::Labels* a = &rs.metric;
        const model::Labels* b = &it->second->metric;
        if (model::Labels::Compare(*a, *b) > 0) std::swap(a, b);
        ThrowExecution("found duplicate series for the match group " +
                       MatchKeyLabels(rs.metric, m).ToString() + " on the " +
                       (one_to_many ? "left" : "right") + " hand-side of the operation: [" +
                       a->ToString() + ", " + b->ToString() +
                       "];many-to-many matching not allowed: matching labels must be unique "
                       "on one side");
      }
    }
    // Fill values (experimental fill modifiers) apply in the swapped orientation: the first
    // fills a missing series of the "many" side, the second one of the "one" side.
    std::optional<double> fill_many = m.fill_lhs, fill_one = m.fill_rhs;
    std::unordered_map<std::string, std::unordered_set<std::string>> matched;
    std::unordered_set<std::string> right_used;
    for (const Sample& ls : lhs) {
      std::string sig = MatchKey(ls.metric, m);
      auto it = right.find(sig);
      if (it == right.end() && !fill_one) continue;
      Sample filled;
      const Sample* rs = &filled;
      if (it != right.end()) {
        rs = it->second;
        right_used.insert(sig);
      } else {
        filled.f = *fill_one;
      }
      Emit(ls, *rs, sig, &matched, out);
    }
    if (!fill_many) return;
    for (const Sample& rs : rhs) {
      std::string sig = MatchKey(rs.metric, m);
      if (right_used.count(sig)) continue;
      // A missing "many" side becomes one series with the match group's labels.
      Sample filled{MatchKeyLabels(rs.metric, m), rs.t, *fill_many};
      EmitFilledMany(filled, rs, out);
    }
  }

  void Emit(const Sample& ls, const Sample& rs, const std::string& sig,
            std::unordered_map<std::string, std::unordered_set<std::string>>* matched,
            Vector* out) const {
    bool one_to_many = m.card == parser::VectorMatchCardinality::kOneToMany;
    bool one_to_one = m.card == parser::VectorMatchCardinality::kOneToOne;
    double fl = ls.f, fr = rs.f;
    if (one_to_many) std::swap(fl, fr);
    // Duplicates on the "many" side are an error even when the comparison drops them.
    if (one_to_one && !matched->try_emplace(sig).second) {
      ThrowExecution(
          "multiple matches for labels: many-to-one matching must be explicit "
          "(group_left/group_right)");
    }
    double v;
    bool keep = ApplyOp(op, fl, fr, &v);
    if (return_bool) {
      v = keep ? 1 : 0;
    } else if (!keep) {
      return;
    }
    model::Labels metric = ResultMetric(ls.metric, rs.metric, op, m, delayed);
    if (!delayed && return_bool) metric = metric.Without(kNameAndMetadataLabels);
    if (!one_to_one && !(*matched)[sig].insert(metric.data()).second) {
      ThrowExecution("multiple matches for labels: grouping labels must ensure unique matches");
    }
    bool drop = delayed && (ls.drop_name || return_bool || DropsName(op));
    out->push_back(Sample{std::move(metric), ls.t, v, nullptr, drop});
  }

  void EmitFilledMany(const Sample& filled, const Sample& rs, Vector* out) const {
    double fl = filled.f, fr = rs.f;
    if (m.card == parser::VectorMatchCardinality::kOneToMany) std::swap(fl, fr);
    double v;
    bool keep = ApplyOp(op, fl, fr, &v);
    if (return_bool) {
      v = keep ? 1 : 0;
    } else if (!keep) {
      return;
    }
    out->push_back(Sample{filled.metric, rs.t, v});
  }
};

}  // namespace

Matrix Evaluator::EvalBinary(const parser::BinaryExpr& e) {
  parser::ValueType lt = e.lhs->Type(), rt = e.rhs->Type();
  BinaryOp op = e.op;
  bool rb = e.return_bool;
  bool delayed = delayed_name_removal();
  if (lt == parser::ValueType::kScalar && rt == parser::ValueType::kScalar) {
    return RangeEval({e.lhs.get(), e.rhs.get()}, [&](const auto& a, int64_t ts, Vector* out) {
      double v;
      bool keep = ApplyOp(op, (*a[0])[0].f, (*a[1])[0].f, &v);
      if (parser::IsComparisonOp(op)) v = keep ? 1 : 0;
      out->push_back(Sample{{}, ts, v});
    });
  }
  if (lt == parser::ValueType::kVector && rt == parser::ValueType::kVector) {
    parser::VectorMatching def;
    const parser::VectorMatching& m = e.matching ? *e.matching : def;
    if (parser::IsSetOp(op)) {
      return RangeEval({e.lhs.get(), e.rhs.get()}, [&](const auto& a, int64_t, Vector* out) {
        SetOp(op, *a[0], *a[1], m, out);
      });
    }
    VectorBinop vb{op, m, rb, delayed};
    return RangeEval({e.lhs.get(), e.rhs.get()}, [&](const auto& a, int64_t, Vector* out) {
      bool fill = m.fill_lhs || m.fill_rhs;
      if (!fill && (a[0]->empty() || a[1]->empty())) return;
      vb(*a[0], *a[1], out);
    });
  }
  bool swap = lt == parser::ValueType::kScalar;
  return RangeEval({e.lhs.get(), e.rhs.get()}, [&](const auto& a, int64_t, Vector* out) {
    const Vector& vec = swap ? *a[1] : *a[0];
    double scalar = (swap ? *a[0] : *a[1])[0].f;
    for (const Sample& s : vec) {
      double l = s.f, r = scalar;
      if (swap) std::swap(l, r);
      double v;
      bool keep = ApplyOp(op, l, r, &v);
      if (parser::IsComparisonOp(op) && swap) v = r;
      if (rb) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      Sample o = s;
      o.f = v;
      if (DropsName(op) || rb) DropMetricName(&o, delayed);
      out->push_back(std::move(o));
    }
  });
}

}  // namespace kiln::promql
