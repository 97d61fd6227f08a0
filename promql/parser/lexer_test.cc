#include "promql/parser/lexer.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln::promql::parser {
namespace {

// Renders the token stream as "Describe@pos" items for compact expectations.
std::string Tokens(std::string_view input) {
  LexResult r = Lex(input);
  std::string out;
  for (const Token& t : r.tokens) {
    if (!out.empty()) out += " ";
    out += (t.type == TokenType::kError ? "ERROR(" + r.error + ")" : t.Describe()) + "@" +
           std::to_string(t.pos);
  }
  return out;
}

TEST(LexerTest, Tokens) {
  const struct {
    const char* input;
    const char* tokens;
  } kCases[] = {
      {"", "end of input@0"},
      {"foo", "identifier \"foo\"@0 end of input@3"},
      {"a:b", "metric identifier \"a:b\"@0 end of input@3"},
      {"sum BY offset", "<aggr:sum>@0 <BY>@4 <offset>@7 end of input@13"},
      {"1.5e3 0x1F 5m 1h30m",
       "number \"1.5e3\"@0 number \"0x1F\"@6 duration \"5m\"@11 "
       "duration \"1h30m\"@14 end of input@19"},
      {"a>=b!=c",
       "identifier \"a\"@0 <op:>=>@1 identifier \"b\"@3 <op:!=>@4 identifier \"c\"@6 "
       "end of input@7"},
      {"x </ 1", "identifier \"x\"@0 <op:</>@2 number \"1\"@5 end of input@6"},
      {"{a=~\"b\",c!~'d'}",
       "\"{\"@0 identifier \"a\"@1 <op:=~>@2 string \"\\\"b\\\"\"@4 \",\"@7 "
       "identifier \"c\"@8 <op:!~>@9 string \"'d'\"@11 \"}\"@14 "
       "end of input@15"},
      {"{sum=\"x\"}",
       "\"{\"@0 identifier \"sum\"@1 \"=\"@4 string \"\\\"x\\\"\"@5 \"}\"@8 "
       "end of input@9"},
      {"x[5m:1m]",
       "identifier \"x\"@0 \"[\"@1 duration \"5m\"@2 \":\"@4 duration \"1m\"@5 "
       "\"]\"@7 end of input@8"},
      {"x[step()+1]",
       "identifier \"x\"@0 \"[\"@1 \"step\"@2 \"(\"@6 \")\"@7 <op:+>@8 "
       "number \"1\"@9 \"]\"@10 end of input@11"},
      {"fill + fill(1)",
       "identifier \"fill\"@0 <op:+>@5 <fill>@7 \"(\"@11 number \"1\"@12 "
       "\")\"@13 end of input@14"},
      {"a # comment\nb", "identifier \"a\"@0 identifier \"b\"@12 end of input@13"},
      {"\"abc", "ERROR(unterminated quoted string)@0"},
      {"`abc", "ERROR(unterminated raw string)@0"},
      {"a{b", "\"{\"@1 identifier \"b\"@2 ERROR(unexpected end of input inside braces)@3"},
      {"(a", "\"(\"@0 identifier \"a\"@1 ERROR(unclosed left parenthesis)@2"},
      {"1a", "ERROR(bad number or duration syntax: \"1\")@0"},
      {"\"\\xZZ\"", "ERROR(illegal character U+005A 'Z' in escape sequence)@0"},
      {"\"\\uD800\"", "ERROR(escape sequence is an invalid Unicode code point)@0"},
      {"\"a\xff\"", "ERROR(invalid UTF-8 rune)@0"},
  };
  for (const auto& c : kCases) {
    std::string got = Tokens(c.input);
    // Expectations may leave out leading tokens (e.g. the metric name before `{`).
    EXPECT_NE(got.find(c.tokens), std::string::npos) << c.input << "\n got: " << got;
  }
}

}  // namespace
}  // namespace kiln::promql::parser
