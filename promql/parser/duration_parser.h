// Internal to the parser library: ranges, subquery steps and offsets, either plain
// literals or (with "promql-duration-expr") arithmetic duration expressions.
#pragma once

#include <cstdint>
#include <optional>

#include "promql/parser/ast.h"
#include "promql/parser/parser.h"
#include "promql/parser/token_stream.h"

namespace kiln::promql::parser {

struct DurationValueOrExpr {
  int64_t ms = 0;  // the value, when known at parse time
  ExprPtr expr;    // the DurationExpr when one was written, else null
};

class DurationParser {
 public:
  DurationParser(TokenStream& ts, const ParserOptions& options) : ts_(ts), options_(options) {}

  // Inside `[...]`, up to (not including) `:` or `]`.
  DurationValueOrExpr ParseBracketed();
  // After `offset`: a signed literal, or a signed `( expr )`, step(), range(), min_of(…),
  // max_of(…); binary operators after it belong to the enclosing expression.
  DurationValueOrExpr ParseOffset();

 private:
  ExprPtr ParseBinary(int min_prec);
  ExprPtr ParseUnary();
  ExprPtr ParsePrimary();
  ExprPtr ParseMinMax(DurationOp op);
  DurationValueOrExpr Finish(ExprPtr e, bool allow_negative);

  TokenStream& ts_;
  const ParserOptions& options_;
};

// True when `e` (a duration expression tree) uses step() or range().
bool DurationNeedsQueryParams(const Expr& e);

// Evaluates a duration expression in seconds; step() and range() take the given values.
double EvalDurationSeconds(const Expr& e, double step_s, double range_s);

// Seconds to milliseconds as Prometheus converts them (truncating).
int64_t SecondsToMs(double s);

}  // namespace kiln::promql::parser
