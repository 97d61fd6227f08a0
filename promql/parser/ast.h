// The PromQL abstract syntax tree.
//
// Every expression is an `Expr` carrying a `Kind`; evaluators dispatch with one `switch` on
// `kind()` and a `static_cast` (or `As<T>()`) to the concrete node. Children are owned
// through `ExprPtr` (unique_ptr). Nodes are plain structs with public fields: the parser
// builds them, `PreprocessExpr` rewrites them, and the engine reads them (and fills in the
// execution-time `offset` of selectors and subqueries).
//
// Durations and timestamps are int64 milliseconds. Positions are byte offsets into the
// query string, half-open [start, end).
//
// Thread-safety: a tree is thread-compatible; concurrent readers are fine once nobody
// mutates it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/matcher.h"

namespace kiln::promql::parser {

struct Function;  // functions.h

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// "none", "scalar", "vector", "matrix", "string" (as upstream's ValueType strings).
std::string_view ValueTypeName(ValueType t);
// "scalar", "instant vector", "range vector", "string" (as used in error messages).
std::string_view DocumentedType(ValueType t);

using Pos = int32_t;

struct PositionRange {
  Pos start = 0;
  Pos end = 0;
  friend bool operator==(const PositionRange&, const PositionRange&) = default;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,  // ==
  kNeq,  // !=
  kGtr,  // >
  kLss,  // <
  kGte,  // >=
  kLte,  // <=
  kAnd,
  kOr,
  kUnless,
  // Native histogram trimming (`</` keeps observations below, `>/` above the scalar).
  kTrimUpper,  // </
  kTrimLower,  // >/
};

std::string_view BinaryOpString(BinaryOp op);  // "+", "==", "atan2", "and" …
bool IsComparisonOp(BinaryOp op);              // == != > < >= <=
bool IsSetOp(BinaryOp op);                     // and or unless

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopK,
  kBottomK,
  kCountValues,
  kQuantile,
  kLimitK,
  kLimitRatio,
};

std::string_view AggregateOpString(AggregateOp op);  // "sum", "count_values" …
// True for the aggregations that take a parameter (topk, quantile, count_values …).
bool AggregateOpHasParam(AggregateOp op);

// Set when `@ start()` or `@ end()` was written; PreprocessExpr resolves it to a timestamp.
enum class StartOrEnd { kNone, kStart, kEnd };

enum class Kind {
  kAggregate,
  kBinary,
  kCall,
  kDuration,
  kMatrixSelector,
  kNumberLiteral,
  kParen,
  kStepInvariant,
  kStringLiteral,
  kSubquery,
  kUnary,
  kVectorSelector,
};

class Expr;
using ExprPtr = std::unique_ptr<Expr>;

// Base of all expression nodes.
class Expr {
 public:
  explicit Expr(Kind kind) : kind_(kind) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  Kind kind() const { return kind_; }
  // The type the expression evaluates to (checked at parse time).
  virtual ValueType Type() const = 0;
  // Where the expression appears in the query string.
  virtual parser::PositionRange PositionRange() const = 0;
  // Prometheus's String(): a form that parses back to an equal tree (printer.cc).
  std::string ToString() const;

  // Unchecked downcasts. REQUIRES: kind() matches T.
  template <typename T>
  T& As() {
    return static_cast<T&>(*this);
  }
  template <typename T>
  const T& As() const {
    return static_cast<const T&>(*this);
  }

 private:
  const Kind kind_;
};

// A number, e.g. `1`, `0x1f`, `Inf`, or a duration such as `5m` used where a number is
// expected (then `duration` is set so the printer keeps the duration form).
struct NumberLiteral final : Expr {
  NumberLiteral() : Expr(Kind::kNumberLiteral) {}
  ValueType Type() const override { return ValueType::kScalar; }
  parser::PositionRange PositionRange() const override { return pos; }

  double val = 0;
  bool duration = false;
  parser::PositionRange pos;
};

struct StringLiteral final : Expr {
  StringLiteral() : Expr(Kind::kStringLiteral) {}
  ValueType Type() const override { return ValueType::kString; }
  parser::PositionRange PositionRange() const override { return pos; }

  std::string val;  // unquoted
  parser::PositionRange pos;
};

// An arithmetic expression over durations (experimental "promql-duration-expr"), used as
// a range, subquery step or offset: `[5m*2]`, `offset (1h+5m)`, `step()`, `range()`,
// `min_of(a, b)`, `max_of(a, b)`. Leaves are NumberLiterals (seconds, or durations).
enum class DurationOp { kAdd, kSub, kMul, kDiv, kMod, kPow, kStep, kRange, kMinOf, kMaxOf };

struct DurationExpr final : Expr {
  DurationExpr() : Expr(Kind::kDuration) {}
  ValueType Type() const override { return ValueType::kScalar; }
  parser::PositionRange PositionRange() const override;

  DurationOp op = DurationOp::kAdd;
  // Unary minus/plus: op kSub/kAdd with lhs null. step()/range(): both null.
  ExprPtr lhs;
  ExprPtr rhs;
  bool wrapped = false;  // written inside parentheses
  Pos start_pos = 0;     // unary operator, step(), range(), min_of/max_of start
  Pos end_pos = 0;       // end of step(), range(), min_of(...)/max_of(...)
};

// `name{matchers} offset x @ t`.
struct VectorSelector final : Expr {
  VectorSelector() : Expr(Kind::kVectorSelector) {}
  ValueType Type() const override { return ValueType::kVector; }
  parser::PositionRange PositionRange() const override { return pos; }

  std::string name;  // metric name, empty when only given by matchers
  // All matchers, including the `__name__` equality matcher for `name`.
  std::vector<model::Matcher> matchers;
  // The offset written in the query (ms, may be negative); computed from
  // original_offset_expr by PreprocessExpr when that is set.
  int64_t original_offset = 0;
  ExprPtr original_offset_expr;  // DurationExpr, or null
  // The offset the engine applies; it folds in `@` and enclosing subqueries. Owned by the
  // engine: the parser sets it equal to original_offset.
  int64_t offset = 0;
  std::optional<int64_t> timestamp;  // `@` time in ms
  StartOrEnd start_or_end = StartOrEnd::kNone;
  // Experimental range modifiers ("promql-extended-range-selectors"); only meaningful
  // inside a MatrixSelector.
  bool anchored = false;
  bool smoothed = false;
  // Set for info()'s second argument, which need not have a non-empty matcher.
  bool bypass_empty_matcher_check = false;
  // Engine hint: native histogram buckets need not be decoded.
  bool skip_histogram_buckets = false;
  parser::PositionRange pos;
};

// `selector[range]`.
struct MatrixSelector final : Expr {
  MatrixSelector() : Expr(Kind::kMatrixSelector) {}
  ValueType Type() const override { return ValueType::kMatrix; }
  parser::PositionRange PositionRange() const override;

  VectorSelector& vs() { return vector_selector->As<VectorSelector>(); }
  const VectorSelector& vs() const { return vector_selector->As<VectorSelector>(); }

  ExprPtr vector_selector;  // always a VectorSelector once parsing succeeded
  int64_t range = 0;        // ms
  ExprPtr range_expr;       // DurationExpr, or null
  Pos end_pos = 0;
};

// `expr[range:step] offset x @ t`.
struct SubqueryExpr final : Expr {
  SubqueryExpr() : Expr(Kind::kSubquery) {}
  ValueType Type() const override { return ValueType::kMatrix; }
  parser::PositionRange PositionRange() const override;

  ExprPtr expr;
  int64_t range = 0;  // ms
  ExprPtr range_expr;
  int64_t step = 0;  // ms; 0 means the engine's default evaluation interval
  ExprPtr step_expr;
  int64_t original_offset = 0;
  ExprPtr original_offset_expr;
  int64_t offset = 0;  // engine-owned, see VectorSelector::offset
  std::optional<int64_t> timestamp;
  StartOrEnd start_or_end = StartOrEnd::kNone;
  Pos end_pos = 0;
};

// `-expr` or `+expr` (only `kAdd` and `kSub` occur).
struct UnaryExpr final : Expr {
  UnaryExpr() : Expr(Kind::kUnary) {}
  ValueType Type() const override { return expr->Type(); }
  parser::PositionRange PositionRange() const override;

  BinaryOp op = BinaryOp::kSub;
  ExprPtr expr;
  Pos start_pos = 0;
};

enum class VectorMatchCardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
std::string_view CardinalityString(VectorMatchCardinality c);  // "one-to-one" …

// How the elements of two vectors in a binary operation are matched.
struct VectorMatching {
  VectorMatchCardinality card = VectorMatchCardinality::kOneToOne;
  // The labels that define equality of a pair (`on`), or that are ignored (`ignoring`).
  std::vector<std::string> matching_labels;
  bool on = false;
  // Extra labels copied from the "one" side (`group_left(a, b)`).
  std::vector<std::string> include;
  // Experimental fill modifiers ("promql-binop-fill-modifiers"): the value used for a
  // missing series on the left (`fill_left(v)`) or right (`fill_right(v)`) side;
  // `fill(v)` sets both.
  std::optional<double> fill_lhs;
  std::optional<double> fill_rhs;
};

struct BinaryExpr final : Expr {
  BinaryExpr() : Expr(Kind::kBinary) {}
  // Scalar when both sides are scalars, else vector.
  ValueType Type() const override;
  parser::PositionRange PositionRange() const override;

  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  // Present only when both sides are instant vectors.
  std::optional<VectorMatching> matching;
  bool return_bool = false;  // comparison with `bool`
  Pos op_pos = 0;            // where the operator starts (for error positions)
};

struct AggregateExpr final : Expr {
  AggregateExpr() : Expr(Kind::kAggregate) {}
  ValueType Type() const override { return ValueType::kVector; }
  parser::PositionRange PositionRange() const override { return pos; }

  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk's k, quantile's φ, count_values' label …; null otherwise
  std::vector<std::string> grouping;
  bool without = false;
  parser::PositionRange pos;
};

struct Call final : Expr {
  Call() : Expr(Kind::kCall) {}
  ValueType Type() const override;  // the function's return type
  parser::PositionRange PositionRange() const override { return pos; }

  const Function* func = nullptr;  // points into the static signature table
  std::vector<ExprPtr> args;
  parser::PositionRange pos;
};

struct ParenExpr final : Expr {
  ParenExpr() : Expr(Kind::kParen) {}
  ValueType Type() const override { return expr->Type(); }
  parser::PositionRange PositionRange() const override { return pos; }

  ExprPtr expr;
  parser::PositionRange pos;
};

// Marks a subtree whose value is the same at every step (e.g. everything under `@`), so
// the engine evaluates it once and repeats the result. Only PreprocessExpr creates it.
struct StepInvariantExpr final : Expr {
  StepInvariantExpr() : Expr(Kind::kStepInvariant) {}
  ValueType Type() const override { return expr->Type(); }
  parser::PositionRange PositionRange() const override { return expr->PositionRange(); }

  ExprPtr expr;
};

// The direct children of `e` in source order (null children omitted).
std::vector<Expr*> Children(Expr& e);
std::vector<const Expr*> Children(const Expr& e);

// Calls `f(node, path)` for `e` and, depth first, every descendant; `path` holds the
// ancestors of `node`, outermost first. Does not descend into duration expressions.
void Inspect(const Expr& e,
             const std::function<void(const Expr& node, const std::vector<const Expr*>& path)>& f);

// A deep copy of `e`.
ExprPtr CloneExpr(const Expr& e);

}  // namespace kiln::promql::parser
