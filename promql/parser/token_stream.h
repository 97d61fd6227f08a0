// Internal to the parser library: a cursor over the lexed tokens with Prometheus-style
// error reporting. Lexer errors surface as soon as the parser looks at the failing token.
#pragma once

#include <string>
#include <string_view>

#include "promql/parser/check.h"
#include "promql/parser/lexer.h"

namespace kiln::promql::parser {

class TokenStream {
 public:
  explicit TokenStream(std::string_view input) : lex_(Lex(input)) {}

  const Token& Peek() { return PeekAt(0); }
  const Token& PeekAt(size_t ahead) {
    size_t i = std::min(pos_ + ahead, lex_.tokens.size() - 1);
    const Token& t = lex_.tokens[i];
    if (t.type == TokenType::kError) Fail({t.pos, t.end()}, lex_.error);
    return t;
  }
  Token Next() {
    Token t = Peek();
    if (pos_ + 1 < lex_.tokens.size()) ++pos_;
    last_end_ = t.end();
    return t;
  }
  void Expect(TokenType type, std::string_view context, std::string_view expected) {
    if (Peek().type != type) Unexpected(context, expected);
    Next();
  }

  Pos last_end() const { return last_end_; }

  [[noreturn]] void Fail(PositionRange pos, std::string msg) {
    throw ParseError{pos, std::move(msg)};
  }
  // "unexpected <token>[ in <context>][, expected <expected>]" at the current token.
  [[noreturn]] void Unexpected(std::string_view context, std::string_view expected) {
    const Token& t = Peek();
    std::string msg = "unexpected " + t.Describe();
    if (!context.empty()) msg += " in " + std::string(context);
    if (!expected.empty()) msg += ", expected " + std::string(expected);
    Fail({t.pos, t.end()}, std::move(msg));
  }

 protected:
  Pos last_end_ = 0;  // end of the last consumed token

 private:
  LexResult lex_;
  size_t pos_ = 0;
};

}  // namespace kiln::promql::parser
