#include "promql/parser/preprocess.h"

#include <cmath>
#include <string_view>

#include "promql/parser/duration_parser.h"
#include "promql/parser/functions.h"

namespace kiln::promql::parser {
namespace {

// Functions whose result depends on the evaluation time even when their arguments do not.
bool AtModifierUnsafe(std::string_view fn) {
  static constexpr std::string_view kUnsafe[] = {
      "days_in_month", "day_of_month", "day_of_week", "day_of_year",    "hour",
      "minute",        "month",        "year",        "predict_linear", "time"};
  for (std::string_view u : kUnsafe) {
    if (u == fn) return true;
  }
  return false;
}

ExprPtr Wrap(ExprPtr e) {
  auto s = std::make_unique<StepInvariantExpr>();
  s->expr = std::move(e);
  return s;
}

class Preprocessor {
 public:
  Preprocessor(int64_t start, int64_t end, int64_t step)
      : start_(start),
        end_(end),
        step_s_(static_cast<double>(step) / 1000.0),
        range_s_(static_cast<double>(end - start) / 1000.0) {}

  // Resolves durations below `e` (always walks the whole tree).
  Status ResolveDurations(Expr& e) {
    switch (e.kind()) {
      case Kind::kVectorSelector: {
        auto& vs = e.As<VectorSelector>();
        KILN_RETURN_IF_ERROR(Resolve(vs.original_offset_expr, &vs.original_offset, true));
        vs.offset = vs.original_offset;
        return Status::OK();
      }
      case Kind::kMatrixSelector: {
        auto& m = e.As<MatrixSelector>();
        KILN_RETURN_IF_ERROR(Resolve(m.range_expr, &m.range, false));
        return ResolveDurations(*m.vector_selector);
      }
      case Kind::kSubquery: {
        auto& s = e.As<SubqueryExpr>();
        KILN_RETURN_IF_ERROR(Resolve(s.range_expr, &s.range, false));
        KILN_RETURN_IF_ERROR(Resolve(s.step_expr, &s.step, false));
        KILN_RETURN_IF_ERROR(Resolve(s.original_offset_expr, &s.original_offset, true));
        s.offset = s.original_offset;
        return ResolveDurations(*s.expr);
      }
      default:
        for (Expr* c : Children(e)) KILN_RETURN_IF_ERROR(ResolveDurations(*c));
        return Status::OK();
    }
  }

  // Returns whether `e` is step invariant; wraps invariant children of variant nodes.
  bool MarkInvariant(Expr& e) {
    switch (e.kind()) {
      case Kind::kVectorSelector: {
        auto& vs = e.As<VectorSelector>();
        ResolveAt(vs.start_or_end, &vs.timestamp);
        return vs.timestamp.has_value();
      }
      case Kind::kAggregate: {
        auto& a = e.As<AggregateExpr>();
        // Like Prometheus, only the aggregated expression decides.
        return MarkInvariant(*a.expr);
      }
      case Kind::kBinary: {
        auto& b = e.As<BinaryExpr>();
        bool l = MarkInvariant(*b.lhs);
        bool r = MarkInvariant(*b.rhs);
        if (l && r) return true;
        if (l) b.lhs = Wrap(std::move(b.lhs));
        if (r) b.rhs = Wrap(std::move(b.rhs));
        return false;
      }
      case Kind::kCall:
        return MarkCall(e.As<Call>());
      case Kind::kMatrixSelector:
        return MarkInvariant(*e.As<MatrixSelector>().vector_selector);
      case Kind::kSubquery: {
        auto& s = e.As<SubqueryExpr>();
        if (MarkInvariant(*s.expr)) s.expr = Wrap(std::move(s.expr));
        ResolveAt(s.start_or_end, &s.timestamp);
        return s.timestamp.has_value();
      }
      case Kind::kParen:
        return MarkInvariant(*e.As<ParenExpr>().expr);
      case Kind::kUnary:
        return MarkInvariant(*e.As<UnaryExpr>().expr);
      case Kind::kStringLiteral:
      case Kind::kNumberLiteral:
        return true;
      case Kind::kStepInvariant:
      case Kind::kDuration:
        return false;
    }
    return false;
  }

 private:
  bool MarkCall(Call& c) {
    bool invariant = !AtModifierUnsafe(c.func->name);
    std::vector<bool> arg_invariant(c.args.size());
    for (size_t i = 0; i < c.args.size(); ++i) {
      arg_invariant[i] = MarkInvariant(*c.args[i]);
      invariant = invariant && arg_invariant[i];
    }
    if (invariant) return true;
    for (size_t i = 0; i < c.args.size(); ++i) {
      if (arg_invariant[i]) c.args[i] = Wrap(std::move(c.args[i]));
    }
    return false;
  }

  void ResolveAt(StartOrEnd se, std::optional<int64_t>* ts) {
    if (se == StartOrEnd::kStart) *ts = start_;
    if (se == StartOrEnd::kEnd) *ts = end_;
  }

  Status Resolve(const ExprPtr& expr, int64_t* out, bool allow_negative) {
    if (!expr) return Status::OK();
    double s = EvalDurationSeconds(*expr, step_s_, range_s_);
    if (std::isnan(s) || std::isinf(s)) {
      return Status::BadData("duration expression " + expr->ToString() + " is not finite");
    }
    int64_t ms = SecondsToMs(s);
    if (!allow_negative && ms <= 0) {
      return Status::BadData("duration expression " + expr->ToString() + " must be greater than 0");
    }
    *out = ms;
    return Status::OK();
  }

  int64_t start_, end_;
  double step_s_, range_s_;
};

}  // namespace

Result<ExprPtr> PreprocessExpr(ExprPtr expr, int64_t start_ms, int64_t end_ms, int64_t step_ms) {
  Preprocessor p(start_ms, end_ms, step_ms);
  KILN_RETURN_IF_ERROR(p.ResolveDurations(*expr));
  if (p.MarkInvariant(*expr)) return Wrap(std::move(expr));
  return expr;
}

}  // namespace kiln::promql::parser
