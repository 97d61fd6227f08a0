// Query preprocessing before evaluation, as Prometheus's engine does it.
#pragma once

#include <cstdint>

#include "pkg/util/result.h"
#include "promql/parser/ast.h"

namespace kiln::promql::parser {

// Resolves duration expressions (step() and range() use `step` and `end - start`) into the
// nodes' range/step/offset fields, resolves `@ start()` / `@ end()` to timestamps, and wraps
// every maximal step-invariant subtree in a StepInvariantExpr (selectors with `@`,
// literals, and anything built only from them; never across functions whose value depends
// on the evaluation time, such as time() and hour()), as Prometheus's engine does.
// Also sets every selector's and subquery's `offset` to its `original_offset`.
// Fails (bad data) when a duration expression yields an invalid range, step or offset.
Result<ExprPtr> PreprocessExpr(ExprPtr expr, int64_t start_ms, int64_t end_ms, int64_t step_ms);

}  // namespace kiln::promql::parser
