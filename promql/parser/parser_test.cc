// Table tests: what queries parse to (checked through the printed form and node fields),
// and the exact error texts of queries that must fail.
#include "promql/parser/parser.h"

#include <gtest/gtest.h>

#include <cmath>

#include "promql/parser/functions.h"
#include "promql/parser/printer.h"

namespace kiln::promql::parser {
namespace {

ExprPtr MustParse(std::string_view q, const ParserOptions& o = ParserOptions::AllEnabled()) {
  auto r = ParseExpr(q, o);
  EXPECT_TRUE(r.ok()) << q << ": " << r.status().message();
  return r.ok() ? std::move(*r) : nullptr;
}

struct PrintCase {
  const char* input;
  const char* printed;
  ValueType type;
};

TEST(ParserTest, ParsesAndPrints) {
  const PrintCase kCases[] = {
      {"1", "1", ValueType::kScalar},
      {"+1", "1", ValueType::kScalar},
      {"-1", "-1", ValueType::kScalar},
      {".5", "0.5", ValueType::kScalar},
      {"5.", "5", ValueType::kScalar},
      {"1e3", "1000", ValueType::kScalar},
      {"1.23e-3", "0.00123", ValueType::kScalar},
      {"0x1f", "31", ValueType::kScalar},
      {"010", "8", ValueType::kScalar},
      {"1_000", "1000", ValueType::kScalar},
      {"Inf", "+Inf", ValueType::kScalar},
      {"-inf", "-Inf", ValueType::kScalar},
      {"NaN", "NaN", ValueType::kScalar},
      {"5m", "5m", ValueType::kScalar},
      {"-1h30m", "-1h30m", ValueType::kScalar},
      {"'a\\'b'", "\"a'b\"", ValueType::kString},
      {"`a\\b`", "\"a\\\\b\"", ValueType::kString},
      {"\"\\u00e4\\x41\"", "\"äA\"", ValueType::kString},
      {"foo", "foo", ValueType::kVector},
      {"foo:bar:baz", "foo:bar:baz", ValueType::kVector},
      {"foo{b=\"2\", a!~\"x.*\",}", "foo{a!~\"x.*\",b=\"2\"}", ValueType::kVector},
      {"{__name__=~\"a|b\"}", "{__name__=~\"a|b\"}", ValueType::kVector},
      {"{\"my.metric\", \"a.b\"=\"c\"}", "{\"a.b\"=\"c\",__name__=\"my.metric\"}",
       ValueType::kVector},
      {"sum", "sum", ValueType::kVector},
      {"offset{a=\"b\"}", "offset{a=\"b\"}", ValueType::kVector},
      {"foo offset 5m", "foo offset 5m", ValueType::kVector},
      {"foo offset -1h", "foo offset -1h", ValueType::kVector},
      {"foo offset 90", "foo offset 1m30s", ValueType::kVector},
      {"foo @ 100", "foo @ 100.000", ValueType::kVector},
      {"foo @ -1.5 offset 1d", "foo @ -1.500 offset 1d", ValueType::kVector},
      {"foo @ start()", "foo @ start()", ValueType::kVector},
      {"foo[5m] @ end() offset 1w", "foo[5m] @ end() offset 1w", ValueType::kMatrix},
      {"foo[1800]", "foo[30m]", ValueType::kMatrix},
      {"foo[1h30m]", "foo[1h30m]", ValueType::kMatrix},
      {"foo[5m] anchored", "foo[5m] anchored", ValueType::kMatrix},
      {"foo smoothed", "foo smoothed", ValueType::kVector},
      {"rate(foo[5m])[30m:1m]", "rate(foo[5m])[30m:1m]", ValueType::kMatrix},
      {"foo[5m:] offset 1m", "foo[5m:] offset 1m", ValueType::kMatrix},
      {"1 + 2 * 3", "1 + 2 * 3", ValueType::kScalar},
      {"(1 + 2) * 3", "(1 + 2) * 3", ValueType::kScalar},
      {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2", ValueType::kScalar},
      {"-2 ^ 2", "-2 ^ 2", ValueType::kScalar},
      {"-foo", "-foo", ValueType::kVector},
      {"1 == bool 1", "1 == bool 1", ValueType::kScalar},
      {"a and b or c unless d", "a and b or c unless d", ValueType::kVector},
      {"a + on(x, y) group_left(z) b", "a + on (x, y) group_left (z) b", ValueType::kVector},
      {"a / ignoring(x) group_right b", "a / ignoring (x) group_right () b", ValueType::kVector},
      {"a > bool on() b", "a > bool on () b", ValueType::kVector},
      {"a + fill(0) b", "a + fill (0) b", ValueType::kVector},
      {"a + fill_left(1) fill_right(-2) b", "a + fill_left (1) fill_right (-2) b",
       ValueType::kVector},
      {"fill + fill", "fill + fill", ValueType::kVector},
      {"a atan2 b", "a atan2 b", ValueType::kVector},
      {"sum by (a, b) (foo)", "sum by (a, b) (foo)", ValueType::kVector},
      {"sum(foo) without (a)", "sum without (a) (foo)", ValueType::kVector},
      {"sum by () (foo)", "sum(foo)", ValueType::kVector},
      {"sum by (\"a.b\") (foo)", "sum by (\"a.b\") (foo)", ValueType::kVector},
      {"topk(3, foo)", "topk(3, foo)", ValueType::kVector},
      {"count_values(\"v\", foo)", "count_values(\"v\", foo)", ValueType::kVector},
      {"quantile(0.9, foo)", "quantile(0.9, foo)", ValueType::kVector},
      {"limitk(2, foo)", "limitk(2, foo)", ValueType::kVector},
      {"rate(foo[5m])", "rate(foo[5m])", ValueType::kVector},
      {"time()", "time()", ValueType::kScalar},
      {"round(foo)", "round(foo)", ValueType::kVector},
      {"label_join(foo, \"a\", \",\", \"b\", \"c\")", "label_join(foo, \"a\", \",\", \"b\", \"c\")",
       ValueType::kVector},
      {"foo # comment\n + bar", "foo + bar", ValueType::kVector},
      {"foo[5m+1m]", "foo[5m + 1m]", ValueType::kMatrix},
      {"foo[2m*(10+5)]", "foo[2m * (10 + 5)]", ValueType::kMatrix},
      {"foo[step()]", "foo[step()]", ValueType::kMatrix},
      {"foo offset (1h+5m)", "foo offset (1h + 5m)", ValueType::kVector},
      {"foo offset -min_of(step(), 1s)+8000", "foo offset -min_of(step(), 1s) + 8000",
       ValueType::kVector},
      {"foo[5m:max_of(1s, range())]", "foo[5m:max_of(1s, range())]", ValueType::kMatrix},
      {"step()", "step()", ValueType::kScalar},
  };
  for (const auto& c : kCases) {
    ExprPtr e = MustParse(c.input);
    if (!e) continue;
    EXPECT_EQ(e->ToString(), c.printed) << c.input;
    EXPECT_EQ(e->Type(), c.type) << c.input;
  }
}

struct ErrorCase {
  const char* input;
  const char* error;
};

TEST(ParserTest, Errors) {
  const ErrorCase kCases[] = {
      {"", "1:1: parse error: no expression found in input"},
      {"1 +", "1:4: parse error: unexpected end of input"},
      {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
      {"foo +\n  bar baz", "2:7: parse error: unexpected identifier \"baz\""},
      {"1 * * 2", "1:5: parse error: unexpected <op:*>"},
      {"(1", "1:3: parse error: unclosed left parenthesis"},
      {"1)", "1:3: parse error: unexpected right parenthesis ')'"},
      {"foo{", "1:5: parse error: unexpected end of input inside braces"},
      {"foo{a=1}", "1:7: parse error: unexpected character inside braces: '1'"},
      {"foo{a}",
       "1:6: parse error: unexpected \"}\" in label matching, expected label matching "
       "operator"},
      {"$", "1:1: parse error: unexpected character: '$'"},
      {"\"abc", "1:1: parse error: unterminated quoted string"},
      {"\"\\z\"", "1:1: parse error: unknown escape sequence U+007A 'z'"},
      {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{a=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"foo{__name__=\"bar\"}",
       "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
      {"rate(foo)",
       "1:6: parse error: expected type range vector in call to function \"rate\", "
       "got instant vector"},
      {"abs(foo[5m])",
       "1:5: parse error: expected type instant vector in call to function "
       "\"abs\", got range vector"},
      {"rate()", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 0"},
      {"round(foo, 1, 2)",
       "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
      {"label_join(foo)",
       "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1"},
      {"nosuchfn(foo)", "1:1: parse error: unknown function with name \"nosuchfn\""},
      {"sum()", "1:1: parse error: no arguments for aggregate expression provided"},
      {"topk(foo)",
       "1:1: parse error: wrong number of arguments for aggregate expression "
       "provided, expected 2, got 1"},
      {"sum(foo[5m])",
       "1:5: parse error: expected type instant vector in aggregation "
       "expression, got range vector"},
      {"topk(\"a\", foo)",
       "1:6: parse error: expected type scalar in aggregation parameter, got "
       "string"},
      {"count_values(1, foo)",
       "1:14: parse error: expected type string in aggregation "
       "parameter, got scalar"},
      {"sum by (1) (foo)",
       "1:9: parse error: unexpected number \"1\" in grouping opts, expected label"},
      {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
      {"foo + bool bar",
       "1:5: parse error: bool modifier can only be used on comparison "
       "operators"},
      {"1 and foo",
       "1:1: parse error: set operator \"and\" not allowed in binary scalar "
       "expression"},
      {"foo and on(a) group_left bar",
       "1:1: parse error: no grouping allowed for \"and\" operation"},
      {"1 + on(a) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
      {"foo[5m] + 1",
       "1:1: parse error: binary expression must contain only scalar and instant vector types"},
      {"-foo[5m]",
       "1:1: parse error: unary expression only allowed on expressions of type scalar "
       "or instant vector, got \"range vector\""},
      {"foo[5m][1m:]",
       "1:1: parse error: subquery is only allowed on instant vector, got matrix "
       "instead"},
      {"(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"},
      {"foo offset 1m[5m]", "1:14: parse error: no offset modifiers allowed before range"},
      {"foo @ 1 [5m]", "1:9: parse error: no @ modifiers allowed before range"},
      {"foo offset 1m offset 2m", "1:1: parse error: offset may not be set multiple times"},
      {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
      {"1 offset 1m",
       "1:1: parse error: offset modifier must be preceded by an instant vector "
       "selector or range vector selector or a subquery"},
      {"foo offset bar",
       "1:12: parse error: unexpected identifier \"bar\" in offset, expected "
       "number or duration"},
      {"foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
      {"foo[5x]", "1:5: parse error: bad number or duration syntax: \"5\""},
      {"foo[]",
       "1:5: parse error: unexpected \"]\" in subquery selector, expected number or "
       "duration"},
      {"}", "1:1: parse error: unexpected character: '}'"},
      {"foo offset 1e10", "1:12: parse error: duration out of range"},
      {"0x",
       "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x\": "
       "invalid syntax"},
      {"foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces"},
      {"sum by (a", "1:10: parse error: unclosed left parenthesis"},
      {"a + on(b) group_left(", "1:22: parse error: unclosed left parenthesis"},
      {"rate(foo[5m:)",
       "1:13: parse error: unexpected \")\" in subquery selector, expected "
       "number or duration or \"]\""},
      {"foo[5m:1m:1m]", "1:10: parse error: unexpected repeated colon in duration expression"},
      {"rate(foo[5m],)", "1:13: parse error: trailing commas not allowed in function call args"},
  };
  for (const auto& c : kCases) {
    auto r = ParseExpr(c.input, ParserOptions::AllEnabled());
    ASSERT_FALSE(r.ok()) << c.input << " parsed as " << (*r)->ToString();
    EXPECT_EQ(r.status().code(), StatusCode::kBadData);
    EXPECT_EQ(r.status().message(), c.error) << c.input;
  }
}

TEST(ParserTest, FeatureFlagsOffByDefault) {
  const char* kExperimental[] = {
      "foo[5m+1m]",    "foo offset (1m)", "foo[5m] anchored",          "foo smoothed",
      "a + fill(0) b", "limitk(1, foo)",  "sort_by_label(foo, \"a\")", "step()"};
  for (const char* q : kExperimental) {
    EXPECT_FALSE(ParseExpr(q).ok()) << q;
    EXPECT_TRUE(ParseExpr(q, ParserOptions::AllEnabled()).ok()) << q;
  }
}

TEST(ParserTest, ExperimentalFeatureErrors) {
  const ErrorCase kDisabled[] = {
      {"a + fill(0) b", "1:1: parse error: binop fill modifiers are experimental and not enabled"},
      {"foo[5m] anchored", "1:1: parse error: anchored modifier is experimental and not enabled"},
      {"foo smoothed", "1:1: parse error: smoothed modifier is experimental and not enabled"},
      {"foo[5m+1m]", "1:5: parse error: experimental duration expression is not enabled"},
      {"foo offset (1m)", "1:12: parse error: experimental duration expression is not enabled"},
      {"step()", "1:1: parse error: function \"step\" is not enabled"},
      {"limitk(1, foo)",
       "1:1: parse error: limitk() is experimental and must be enabled with "
       "--enable-feature=promql-experimental-functions"},
  };
  for (const auto& c : kDisabled) {
    auto r = ParseExpr(c.input);
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_EQ(r.status().message(), c.error) << c.input;
  }
  const ErrorCase kEnabled[] = {
      {"foo[5m] anchored smoothed",
       "1:1: parse error: anchored and smoothed modifiers cannot be used together"},
      {"foo[5m:] anchored", "1:1: parse error: anchored modifier is not supported for subqueries"},
      {"a and fill(1) b",
       "1:1: parse error: filling in missing series not allowed for set "
       "operators"},
      {"1 + fill(1) b",
       "1:1: parse error: filling in missing series only allowed between "
       "instant vectors"},
      {"info(foo, bar)",
       "1:11: parse error: expected label selectors only, got vector selector "
       "instead"},
      {"info(foo, 1)",
       "1:1: parse error: expected type instant vector in call to function "
       "\"info\", got scalar"},
  };
  for (const auto& c : kEnabled) {
    auto r = ParseExpr(c.input, ParserOptions::AllEnabled());
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_EQ(r.status().message(), c.error) << c.input;
  }
  EXPECT_TRUE(ParseExpr("info(foo, {k=~\".*\"})", ParserOptions::AllEnabled()).ok());
}

TEST(ParserTest, NodeFields) {
  ExprPtr e = MustParse("sum without (a) (rate(foo{x=~\"y\"}[5m] offset -1m)) > bool 2");
  ASSERT_EQ(e->kind(), Kind::kBinary);
  const auto& b = e->As<BinaryExpr>();
  EXPECT_EQ(b.op, BinaryOp::kGtr);
  EXPECT_TRUE(b.return_bool);
  EXPECT_FALSE(b.matching.has_value());  // dropped: one side is a scalar
  ASSERT_EQ(b.lhs->kind(), Kind::kAggregate);
  const auto& agg = b.lhs->As<AggregateExpr>();
  EXPECT_TRUE(agg.without);
  EXPECT_EQ(agg.grouping, std::vector<std::string>{"a"});
  const auto& call = agg.expr->As<Call>();
  EXPECT_EQ(call.func, LookupFunction("rate"));
  const auto& ms = call.args[0]->As<MatrixSelector>();
  EXPECT_EQ(ms.range, 300000);
  EXPECT_EQ(ms.vs().original_offset, -60000);
  EXPECT_EQ(ms.vs().name, "foo");
  ASSERT_EQ(ms.vs().matchers.size(), 2u);
  EXPECT_EQ(ms.vs().matchers[1].name(), "__name__");
  EXPECT_EQ(e->PositionRange(), (PositionRange{0, 59}));
  EXPECT_EQ(ms.PositionRange(), (PositionRange{22, 48}));

  ExprPtr s = MustParse("a and b");
  EXPECT_EQ(s->As<BinaryExpr>().matching->card, VectorMatchCardinality::kManyToMany);
  ExprPtr f = MustParse("a - fill_right(3) b");
  EXPECT_FALSE(f->As<BinaryExpr>().matching->fill_lhs.has_value());
  EXPECT_EQ(f->As<BinaryExpr>().matching->fill_rhs, 3.0);
}

TEST(ParserTest, ExtendedRangeModifiersCheckedForEvaluation) {
  const struct {
    const char* query;
    const char* error;  // empty: allowed
  } kCases[] = {
      {"rate(foo[1m] smoothed)", ""},
      {"increase(foo[1m] anchored)", ""},
      {"resets(foo[1m] anchored)", ""},
      {"deriv(foo[3m] smoothed)",
       "smoothed modifier can only be used with: delta, increase, rate - not with deriv"},
      {"resets(foo[3m] smoothed)",
       "smoothed modifier can only be used with: delta, increase, rate - not with resets"},
      {"max_over_time(foo[3m] anchored)",
       "anchored modifier can only be used with: changes, delta, increase, rate, resets - not "
       "with max_over_time"},
  };
  for (const auto& c : kCases) {
    ExprPtr e = MustParse(c.query);
    ASSERT_TRUE(e);
    Status s = CheckExtendedRangeModifiers(e->As<Call>());
    EXPECT_EQ(s.message(), c.error) << c.query;
  }
}

TEST(ParserTest, ParseMetricSelector) {
  auto r = ParseMetricSelector("up{job=~\"a|b\", instance!=\"x\"}");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].ToString(), "job=~\"a|b\"");
  EXPECT_EQ((*r)[2].ToString(), "__name__=\"up\"");
  EXPECT_FALSE(ParseMetricSelector("up + 1").ok());
  EXPECT_FALSE(ParseMetricSelector("rate(up[5m])").ok());
  // Like upstream, no non-empty-matcher check here: `{__name__=~".*"}` selects everything
  // (the HTTP API applies its own check to match[]).
  EXPECT_TRUE(ParseMetricSelector("{__name__=~\".*\"}").ok());
  EXPECT_TRUE(ParseMetricSelector("{a=\"\"}").ok());
}

}  // namespace
}  // namespace kiln::promql::parser
