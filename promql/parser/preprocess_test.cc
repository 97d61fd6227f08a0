#include "promql/parser/preprocess.h"

#include <gtest/gtest.h>

#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

namespace kiln::promql::parser {
namespace {

// Renders a tree with StepInvariantExpr shown as SI(...), to check where wrapping happens.
std::string Shape(const Expr& e) {
  if (e.kind() == Kind::kStepInvariant) {
    return "SI(" + Shape(*e.As<StepInvariantExpr>().expr) + ")";
  }
  switch (e.kind()) {
    case Kind::kBinary: {
      const auto& b = e.As<BinaryExpr>();
      return "(" + Shape(*b.lhs) + " " + std::string(BinaryOpString(b.op)) + " " + Shape(*b.rhs) +
             ")";
    }
    case Kind::kCall: {
      std::string s(e.As<Call>().func ? "call(" : "(");
      for (const auto& a : e.As<Call>().args) s += Shape(*a) + ";";
      return s + ")";
    }
    case Kind::kAggregate:
      return "agg(" + Shape(*e.As<AggregateExpr>().expr) + ")";
    case Kind::kSubquery:
      return "sq(" + Shape(*e.As<SubqueryExpr>().expr) + ")";
    default:
      return e.ToString();
  }
}

TEST(PreprocessTest, WrapsStepInvariantSubtrees) {
  const struct {
    const char* query;
    const char* shape;
  } kCases[] = {
      {"foo", "foo"},
      {"1", "SI(1)"},
      {"foo @ 10", "SI(foo @ 10.000)"},
      {"foo @ 10 + bar", "(SI(foo @ 10.000) + bar)"},
      {"foo + 1", "(foo + SI(1))"},
      {"sum(foo @ 10)", "SI(agg(foo @ 10.000))"},
      {"rate(foo[5m] @ 10)", "SI(call(foo[5m] @ 10.000;))"},
      {"time()", "call()"},
      {"hour(foo @ 10)", "call(SI(foo @ 10.000);)"},
      {"rate(foo[5m])[10m:1m] @ 100", "SI(sq(call(foo[5m];)))"},
      {"rate(foo[5m] @ 10)[10m:1m]", "sq(SI(call(foo[5m] @ 10.000;)))"},
      {"foo @ start() - foo @ end()", "SI((foo @ 1.000 - foo @ 2.000))"},
  };
  for (const auto& c : kCases) {
    auto parsed = ParseExpr(c.query, ParserOptions::AllEnabled());
    ASSERT_TRUE(parsed.ok()) << c.query << ": " << parsed.status().message();
    auto pre = PreprocessExpr(std::move(*parsed), 1000, 2000, 100);
    ASSERT_TRUE(pre.ok()) << c.query;
    EXPECT_EQ(Shape(**pre), c.shape) << c.query;
  }
}

TEST(PreprocessTest, ResolvesDurationExpressions) {
  auto parsed =
      ParseExpr("sum_over_time(foo[step()*2:range()] offset -step())", ParserOptions::AllEnabled());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto pre = PreprocessExpr(std::move(*parsed), 0, 600000, 15000);
  ASSERT_TRUE(pre.ok()) << pre.status().message();
  const auto& call = (*pre)->As<Call>();
  const auto& sq = call.args[0]->As<SubqueryExpr>();
  EXPECT_EQ(sq.range, 30000);
  EXPECT_EQ(sq.step, 600000);
  EXPECT_EQ(sq.original_offset, -15000);
  EXPECT_EQ(sq.offset, -15000);
  // The printed form keeps the expressions as written.
  EXPECT_EQ((*pre)->ToString(), "sum_over_time(foo[step() * 2:range()] offset -step())");

  auto bad = ParseExpr("foo[step() - 1m]", ParserOptions::AllEnabled());
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(PreprocessExpr(std::move(*bad), 0, 0, 15000).ok());
}

TEST(PreprocessTest, ConstantDurationExpressionsResolveAtParseTime) {
  auto parsed = ParseExpr("foo[2m*(10+5)] offset (1h+5m)", ParserOptions::AllEnabled());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto& m = (*parsed)->As<MatrixSelector>();
  EXPECT_EQ(m.range, 30 * 60000);
  EXPECT_EQ(m.vs().original_offset, 65 * 60000);
}

}  // namespace
}  // namespace kiln::promql::parser
