// Turning a PromQL tree back into text.
#pragma once

#include <string>

#include "promql/parser/ast.h"

namespace kiln::promql::parser {

// Prometheus's String(): one line that parses back to an equal tree. Same as e.ToString().
std::string ExprString(const Expr& e);

// Prometheus's Pretty() as used by /api/v1/format_query: nodes that do not fit in
// kMaxPrettyWidth columns are broken over indented lines.
inline constexpr int kMaxPrettyWidth = 100;
std::string Pretty(const Expr& e);

}  // namespace kiln::promql::parser
