// PromQL parsing entry points.
//
// Errors come back as Status kBadData whose message reads like Prometheus's, e.g.
// `1:5: parse error: unexpected <op:*>` (line:column of the offending token, 1-based,
// column counted in bytes). All functions are thread-safe (no shared mutable state).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/util/result.h"
#include "promql/parser/ast.h"

namespace kiln::promql::parser {

// Experimental language features, each behind Prometheus's --enable-feature name.
struct ParserOptions {
  bool experimental_functions = false;    // promql-experimental-functions
  bool duration_expressions = false;      // promql-duration-expr
  bool extended_range_selectors = false;  // promql-extended-range-selectors
  bool binop_fill_modifiers = false;      // promql-binop-fill-modifiers

  // Everything on, as the promqltest runner uses.
  static ParserOptions AllEnabled() { return {true, true, true, true}; }
};

// Parses and type-checks a PromQL expression.
Result<ExprPtr> ParseExpr(std::string_view input, const ParserOptions& options = {});

// Parses a series selector such as `up{job="x"}` or `{__name__=~"a.*"}` (the HTTP API's
// `match[]`), returning its matchers (including the `__name__` matcher).
Result<std::vector<model::Matcher>> ParseMetricSelector(std::string_view input);

// Prometheus's model.ParseDuration: integer amounts of the units y w d h m s ms, each at
// most once and in that order (`1h30m`, `5m`, `0`); returns milliseconds. Fails (bad data)
// on anything else, including overflow. (The HTTP API's float-seconds form is its own.)
Result<int64_t> ParseDuration(std::string_view s);

}  // namespace kiln::promql::parser
