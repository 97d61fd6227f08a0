// libFuzzer target: parsing arbitrary input must never crash, hang or leak an exception,
// and whatever parses must print to a form that parses to the same printed form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

using kiln::promql::parser::ParseExpr;
using kiln::promql::parser::ParserOptions;
using kiln::promql::parser::Pretty;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const ParserOptions opts = ParserOptions::AllEnabled();
  auto e = ParseExpr(input, opts);
  if (!e.ok()) return 0;
  std::string printed = (*e)->ToString();
  auto again = ParseExpr(printed, opts);
  if (!again.ok() || (*again)->ToString() != printed) std::abort();
  (void)Pretty(**e);
  return 0;
}
