// The PromQL function signature table: names, argument and return types.
//
// Kept apart from the implementations (promql/functions_*.cc) so the parser can type-check
// calls without knowing how they are evaluated. Thread-safe (immutable static data).
#pragma once

#include <string_view>
#include <vector>

#include "pkg/util/status.h"
#include "promql/parser/ast.h"

namespace kiln::promql::parser {

struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() arguments. Otherwise at least arg_types.size() - 1
  // arguments and, for n > 0, at most arg_types.size() - 1 + n (-1: no upper bound);
  // arguments past the end of arg_types have the last type.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  // Only available with the "promql-experimental-functions" feature.
  bool experimental = false;
};

// The function called `name`, or null when there is none.
const Function* LookupFunction(std::string_view name);

// The experimental `anchored` and `smoothed` range modifiers only apply to some
// functions. Returns kBadData with Prometheus's message, e.g. "smoothed modifier can only
// be used with: delta, increase, rate - not with deriv", when `call` uses them elsewhere.
// Prometheus reports this when evaluating, not parsing, so the engine calls it.
Status CheckExtendedRangeModifiers(const Call& call);

// Every function, sorted by name.
const std::vector<const Function*>& AllFunctions();

}  // namespace kiln::promql::parser
