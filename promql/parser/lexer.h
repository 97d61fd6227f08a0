// The PromQL lexer.
//
// Turns a query into tokens whose values are views into the input (no per-token
// allocation). Like Prometheus's lexer it is modal: inside `{...}` keywords are plain
// identifiers, inside `[...]` only duration-expression tokens exist. A lexical error ends
// the stream with one kError token whose `message` says what went wrong.
// Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "promql/parser/ast.h"

namespace kiln::promql::parser {

enum class TokenType {
  kEOF,
  kError,
  kComment,
  kIdentifier,
  kMetricIdentifier,  // an identifier containing ':'
  kString,
  kNumber,
  kDuration,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEql,  // =
  kColon,
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // ==
  kNeq,   // !=
  kLte,
  kLss,
  kGte,
  kGtr,
  kEqlRegex,  // =~
  kNeqRegex,  // !~
  kAt,
  kLand,
  kLor,
  kLunless,
  kAtan2,
  kTrimUpper,  // </
  kTrimLower,  // >/
  // Aggregators (the token value names which one).
  kAggregator,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  kFill,
  kFillLeft,
  kFillRight,
  kSmoothed,
  kAnchored,
  // Preprocessors and duration functions.
  kStart,
  kEnd,
  kStep,
  kRange,
  kMinOf,  // min_of, only inside brackets
  kMaxOf,  // max_of, only inside brackets
};

struct Token {
  TokenType type = TokenType::kEOF;
  Pos pos = 0;
  std::string_view val;  // the token's text (kError: the offending text, may be empty)

  Pos end() const { return pos + static_cast<Pos>(val.size()); }
  // How Prometheus names the token in "unexpected …" errors, e.g. `<op:*>`,
  // `identifier "foo"`, `end of input`.
  std::string Describe() const;
};

struct LexResult {
  // Ends with kEOF, or with kError after which nothing was lexed. Comments are dropped.
  std::vector<Token> tokens;
  std::string error;  // the message of the final kError token
};

// Lexes all of `input`. The tokens view `input`, which must outlive them.
LexResult Lex(std::string_view input);

bool IsOperatorToken(TokenType t);

}  // namespace kiln::promql::parser
