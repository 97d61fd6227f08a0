#include "promql/functions.h"

namespace kiln::promql {

const FunctionInfo* LookupFunctionImpl(std::string_view name) {
  static const FunctionTable* table = [] {
    auto* t = new FunctionTable;
    RegisterMathFunctions(t);
    RegisterTimeFunctions(t);
    RegisterRateFunctions(t);
    RegisterOverTimeFunctions(t);
    RegisterSortFunctions(t);
    RegisterHistogramFunctions(t);
    return t;
  }();
  auto it = table->find(std::string(name));
  return it == table->end() ? nullptr : &it->second;
}

}  // namespace kiln::promql
