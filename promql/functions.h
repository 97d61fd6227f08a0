// Registration of function implementations, one family per file (functions_*.cc), keyed by
// the names in the parser's signature table (promql/parser/functions.h).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "promql/evaluator.h"
#include "promql/parser/functions.h"

namespace kiln::promql {

using FunctionTable = std::unordered_map<std::string, FunctionInfo>;

void RegisterMathFunctions(FunctionTable* t);
void RegisterTimeFunctions(FunctionTable* t);
void RegisterRateFunctions(FunctionTable* t);
void RegisterOverTimeFunctions(FunctionTable* t);
void RegisterSortFunctions(FunctionTable* t);
void RegisterHistogramFunctions(FunctionTable* t);

// Appends one sample with the labels of the call's first vector argument's sample `s`.
inline void EmitLike(const Sample& s, double f, Vector* out) {
  out->push_back(Sample{s.metric, s.t, f, nullptr, s.drop_name});
}

}  // namespace kiln::promql
