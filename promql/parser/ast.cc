#include "promql/parser/ast.h"

#include "promql/parser/functions.h"

namespace kiln::promql::parser {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone:
      return "none";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "vector";
    case ValueType::kMatrix:
      return "matrix";
    case ValueType::kString:
      return "string";
  }
  return "unknown";
}

std::string_view DocumentedType(ValueType t) {
  switch (t) {
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    default:
      return ValueTypeName(t);
  }
}

std::string_view BinaryOpString(BinaryOp op) {
  static constexpr std::string_view kNames[] = {"+",     "-",   "*",  "/",      "%",  "^",
                                                "atan2", "==",  "!=", ">",      "<",  ">=",
                                                "<=",    "and", "or", "unless", "</", ">/"};
  return kNames[static_cast<int>(op)];
}

bool IsComparisonOp(BinaryOp op) { return op >= BinaryOp::kEql && op <= BinaryOp::kLte; }

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

std::string_view AggregateOpString(AggregateOp op) {
  static constexpr std::string_view kNames[] = {
      "sum",    "avg",  "count",   "min",          "max",      "group",  "stddev",
      "stdvar", "topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio"};
  return kNames[static_cast<int>(op)];
}

bool AggregateOpHasParam(AggregateOp op) { return op >= AggregateOp::kTopK; }

std::string_view CardinalityString(VectorMatchCardinality c) {
  switch (c) {
    case VectorMatchCardinality::kOneToOne:
      return "one-to-one";
    case VectorMatchCardinality::kManyToOne:
      return "many-to-one";
    case VectorMatchCardinality::kOneToMany:
      return "one-to-many";
    case VectorMatchCardinality::kManyToMany:
      return "many-to-many";
  }
  return "unknown";
}

parser::PositionRange DurationExpr::PositionRange() const {
  if (op == DurationOp::kStep || op == DurationOp::kRange || op == DurationOp::kMinOf ||
      op == DurationOp::kMaxOf) {
    return {start_pos, end_pos};
  }
  if (!lhs) return {start_pos, rhs->PositionRange().end};
  return {lhs->PositionRange().start, rhs->PositionRange().end};
}

parser::PositionRange MatrixSelector::PositionRange() const {
  return {vector_selector->PositionRange().start, end_pos};
}

parser::PositionRange SubqueryExpr::PositionRange() const {
  return {expr->PositionRange().start, end_pos};
}

parser::PositionRange UnaryExpr::PositionRange() const {
  return {start_pos, expr->PositionRange().end};
}

ValueType BinaryExpr::Type() const {
  if (lhs->Type() == ValueType::kScalar && rhs->Type() == ValueType::kScalar) {
    return ValueType::kScalar;
  }
  return ValueType::kVector;
}

parser::PositionRange BinaryExpr::PositionRange() const {
  return {lhs->PositionRange().start, rhs->PositionRange().end};
}

ValueType Call::Type() const { return func->return_type; }

namespace {

template <typename E, typename Out>
void CollectChildren(E& e, Out& out) {
  auto add = [&out](auto& p) {
    if (p) out.push_back(p.get());
  };
  switch (e.kind()) {
    case Kind::kAggregate: {
      auto& a = e.template As<AggregateExpr>();
      // Upstream order: the aggregated expression, then the parameter.
      add(a.expr);
      add(a.param);
      break;
    }
    case Kind::kBinary:
      add(e.template As<BinaryExpr>().lhs);
      add(e.template As<BinaryExpr>().rhs);
      break;
    case Kind::kCall:
      for (auto& a : e.template As<Call>().args) add(a);
      break;
    case Kind::kMatrixSelector:
      add(e.template As<MatrixSelector>().vector_selector);
      break;
    case Kind::kParen:
      add(e.template As<ParenExpr>().expr);
      break;
    case Kind::kStepInvariant:
      add(e.template As<StepInvariantExpr>().expr);
      break;
    case Kind::kSubquery:
      add(e.template As<SubqueryExpr>().expr);
      break;
    case Kind::kUnary:
      add(e.template As<UnaryExpr>().expr);
      break;
    case Kind::kDuration:
    case Kind::kNumberLiteral:
    case Kind::kStringLiteral:
    case Kind::kVectorSelector:
      break;
  }
}

void InspectRec(const Expr& e, std::vector<const Expr*>& path,
                const std::function<void(const Expr&, const std::vector<const Expr*>&)>& f) {
  f(e, path);
  path.push_back(&e);
  for (const Expr* c : Children(e)) InspectRec(*c, path, f);
  path.pop_back();
}

}  // namespace

std::vector<Expr*> Children(Expr& e) {
  std::vector<Expr*> out;
  CollectChildren(e, out);
  return out;
}

std::vector<const Expr*> Children(const Expr& e) {
  std::vector<const Expr*> out;
  CollectChildren(e, out);
  return out;
}

void Inspect(const Expr& e,
             const std::function<void(const Expr&, const std::vector<const Expr*>&)>& f) {
  std::vector<const Expr*> path;
  InspectRec(e, path, f);
}

}  // namespace kiln::promql::parser
