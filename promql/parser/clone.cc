// CloneExpr: deep copies of expression trees (the engine rewrites trees per query).
#include <memory>

#include "promql/parser/ast.h"

namespace kiln::promql::parser {
namespace {

ExprPtr CloneOrNull(const ExprPtr& e) { return e ? CloneExpr(*e) : nullptr; }

ExprPtr CloneVectorSelector(const VectorSelector& v) {
  auto c = std::make_unique<VectorSelector>();
  c->name = v.name;
  c->matchers = v.matchers;
  c->original_offset = v.original_offset;
  c->original_offset_expr = CloneOrNull(v.original_offset_expr);
  c->offset = v.offset;
  c->timestamp = v.timestamp;
  c->start_or_end = v.start_or_end;
  c->anchored = v.anchored;
  c->smoothed = v.smoothed;
  c->bypass_empty_matcher_check = v.bypass_empty_matcher_check;
  c->skip_histogram_buckets = v.skip_histogram_buckets;
  c->pos = v.pos;
  return c;
}

ExprPtr CloneSubquery(const SubqueryExpr& s) {
  auto c = std::make_unique<SubqueryExpr>();
  c->expr = CloneExpr(*s.expr);
  c->range = s.range;
  c->range_expr = CloneOrNull(s.range_expr);
  c->step = s.step;
  c->step_expr = CloneOrNull(s.step_expr);
  c->original_offset = s.original_offset;
  c->original_offset_expr = CloneOrNull(s.original_offset_expr);
  c->offset = s.offset;
  c->timestamp = s.timestamp;
  c->start_or_end = s.start_or_end;
  c->end_pos = s.end_pos;
  return c;
}

ExprPtr CloneBinary(const BinaryExpr& b) {
  auto c = std::make_unique<BinaryExpr>();
  c->op = b.op;
  c->lhs = CloneExpr(*b.lhs);
  c->rhs = CloneExpr(*b.rhs);
  c->matching = b.matching;
  c->return_bool = b.return_bool;
  c->op_pos = b.op_pos;
  return c;
}

ExprPtr CloneAggregate(const AggregateExpr& a) {
  auto c = std::make_unique<AggregateExpr>();
  c->op = a.op;
  c->expr = CloneOrNull(a.expr);
  c->param = CloneOrNull(a.param);
  c->grouping = a.grouping;
  c->without = a.without;
  c->pos = a.pos;
  return c;
}

ExprPtr CloneDuration(const DurationExpr& d) {
  auto c = std::make_unique<DurationExpr>();
  c->op = d.op;
  c->lhs = CloneOrNull(d.lhs);
  c->rhs = CloneOrNull(d.rhs);
  c->wrapped = d.wrapped;
  c->start_pos = d.start_pos;
  c->end_pos = d.end_pos;
  return c;
}

}  // namespace

ExprPtr CloneExpr(const Expr& e) {
  switch (e.kind()) {
    case Kind::kAggregate:
      return CloneAggregate(e.As<AggregateExpr>());
    case Kind::kBinary:
      return CloneBinary(e.As<BinaryExpr>());
    case Kind::kCall: {
      const auto& s = e.As<Call>();
      auto c = std::make_unique<Call>();
      c->func = s.func;
      for (const auto& a : s.args) c->args.push_back(CloneExpr(*a));
      c->pos = s.pos;
      return c;
    }
    case Kind::kDuration:
      return CloneDuration(e.As<DurationExpr>());
    case Kind::kMatrixSelector: {
      const auto& s = e.As<MatrixSelector>();
      auto c = std::make_unique<MatrixSelector>();
      c->vector_selector = CloneExpr(*s.vector_selector);
      c->range = s.range;
      c->range_expr = CloneOrNull(s.range_expr);
      c->end_pos = s.end_pos;
      return c;
    }
    case Kind::kNumberLiteral: {
      const auto& s = e.As<NumberLiteral>();
      auto c = std::make_unique<NumberLiteral>();
      c->val = s.val;
      c->duration = s.duration;
      c->pos = s.pos;
      return c;
    }
    case Kind::kParen: {
      auto c = std::make_unique<ParenExpr>();
      c->expr = CloneExpr(*e.As<ParenExpr>().expr);
      c->pos = e.As<ParenExpr>().pos;
      return c;
    }
    case Kind::kStepInvariant: {
      auto c = std::make_unique<StepInvariantExpr>();
      c->expr = CloneExpr(*e.As<StepInvariantExpr>().expr);
      return c;
    }
    case Kind::kStringLiteral: {
      auto c = std::make_unique<StringLiteral>();
      c->val = e.As<StringLiteral>().val;
      c->pos = e.As<StringLiteral>().pos;
      return c;
    }
    case Kind::kSubquery:
      return CloneSubquery(e.As<SubqueryExpr>());
    case Kind::kUnary: {
      const auto& s = e.As<UnaryExpr>();
      auto c = std::make_unique<UnaryExpr>();
      c->op = s.op;
      c->expr = CloneExpr(*s.expr);
      c->start_pos = s.start_pos;
      return c;
    }
    case Kind::kVectorSelector:
      return CloneVectorSelector(e.As<VectorSelector>());
  }
  return nullptr;
}

}  // namespace kiln::promql::parser
