// Internal to the parser library: the error type thrown while parsing and the type checker.
#pragma once

#include <string>

#include "promql/parser/ast.h"
#include "promql/parser/parser.h"

namespace kiln::promql::parser {

// Thrown inside the parser and checker; ParseExpr turns it into a Status. Never escapes
// the library.
struct ParseError {
  parser::PositionRange pos;
  std::string msg;
};

// Type-checks `e` recursively as Prometheus's checkAST does (argument and operand types,
// vector matching, selector rules, experimental modifiers) and normalises it (set
// operations become many-to-many; matching is dropped when an operand is not a vector).
// Returns the type of `e`. Throws ParseError.
ValueType CheckAST(Expr& e, const ParserOptions& options);

}  // namespace kiln::promql::parser
