// The lexer follows the token rules of Prometheus's promql/parser/lex.go (modes inside
// braces and brackets, number and duration shapes, escape rules, error texts).
#include "promql/parser/lexer.h"

#include <cctype>
#include <cstdio>
#include <optional>

#include "pkg/model/labels.h"

namespace kiln::promql::parser {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool In(std::string_view set, char c) { return c != 0 && set.find(c) != std::string_view::npos; }

// ASCII case-insensitive equality with an already lower-case word; allocation free.
bool EqualFold(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i]) return false;
  }
  return true;
}

// Keywords recognised outside braces (case-insensitive), as Prometheus's `key` table.
std::optional<TokenType> Keyword(std::string_view word) {
  struct Entry {
    std::string_view word;
    TokenType type;
  };
  static constexpr Entry kKeywords[] = {
      {"and", TokenType::kLand},
      {"or", TokenType::kLor},
      {"unless", TokenType::kLunless},
      {"atan2", TokenType::kAtan2},
      {"sum", TokenType::kAggregator},
      {"avg", TokenType::kAggregator},
      {"count", TokenType::kAggregator},
      {"min", TokenType::kAggregator},
      {"max", TokenType::kAggregator},
      {"group", TokenType::kAggregator},
      {"stddev", TokenType::kAggregator},
      {"stdvar", TokenType::kAggregator},
      {"topk", TokenType::kAggregator},
      {"bottomk", TokenType::kAggregator},
      {"count_values", TokenType::kAggregator},
      {"quantile", TokenType::kAggregator},
      {"limitk", TokenType::kAggregator},
      {"limit_ratio", TokenType::kAggregator},
      {"offset", TokenType::kOffset},
      {"smoothed", TokenType::kSmoothed},
      {"anchored", TokenType::kAnchored},
      {"by", TokenType::kBy},
      {"without", TokenType::kWithout},
      {"on", TokenType::kOn},
      {"ignoring", TokenType::kIgnoring},
      {"group_left", TokenType::kGroupLeft},
      {"group_right", TokenType::kGroupRight},
      {"fill", TokenType::kFill},
      {"fill_left", TokenType::kFillLeft},
      {"fill_right", TokenType::kFillRight},
      {"bool", TokenType::kBool},
      {"start", TokenType::kStart},
      {"end", TokenType::kEnd},
      {"step", TokenType::kStep},
      {"range", TokenType::kRange},
      {"inf", TokenType::kNumber},
      {"nan", TokenType::kNumber},
  };
  for (const Entry& e : kKeywords) {
    if (EqualFold(word, e.word)) return e.type;
  }
  return std::nullopt;
}

// Go's %q of a single rune, for error messages.
std::string QuoteRune(std::string_view rune) {
  if (rune.size() == 1 && rune[0] == '\'') return "'\\''";
  std::string q;
  model::AppendGoQuoted(&q, rune);
  if (rune == "\"") return "'\"'";
  return "'" + q.substr(1, q.size() - 2) + "'";
}

std::string QuoteString(std::string_view s) {
  std::string q;
  model::AppendGoQuoted(&q, s);
  return q;
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  LexResult Run() {
    LexResult r;
    r.tokens.reserve(in_.size() / 4 + 2);  // one allocation for typical queries
    while (true) {
      Token t = Next();
      if (t.type == TokenType::kComment) continue;
      r.tokens.push_back(t);
      if (t.type == TokenType::kEOF) break;
      if (t.type == TokenType::kError) {
        r.error = std::move(error_);
        break;
      }
    }
    return r;
  }

 private:
  char Peek(size_t ahead = 0) const { return pos_ + ahead < in_.size() ? in_[pos_ + ahead] : '\0'; }
  bool AtEnd() const { return pos_ >= in_.size(); }
  bool Accept(std::string_view set) {
    if (!AtEnd() && In(set, in_[pos_])) {
      ++pos_;
      return true;
    }
    return false;
  }
  void AcceptRun(std::string_view set) {
    while (Accept(set)) {
    }
  }
  // The UTF-8 sequence starting at pos_ (one byte when invalid).
  std::string_view RuneAt(size_t p) const {
    unsigned char c = static_cast<unsigned char>(in_[p]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (p + n > in_.size()) n = 1;
    return in_.substr(p, n);
  }

  Token Emit(TokenType t) {
    Token tok{t, static_cast<Pos>(start_), in_.substr(start_, pos_ - start_)};
    start_ = pos_;
    return tok;
  }
  Token Error(std::string msg) {
    error_ = std::move(msg);
    Token tok{TokenType::kError, static_cast<Pos>(start_), in_.substr(start_, pos_ - start_)};
    start_ = pos_;
    return tok;
  }

  void SkipSpaces() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
    start_ = pos_;
  }

  Token Next() {
    if (brace_open_) return InsideBraces();
    if (bracket_open_) return InsideBrackets();
    SkipSpaces();
    if (AtEnd()) {
      if (paren_depth_ != 0) return Error("unclosed left parenthesis");
      return Emit(TokenType::kEOF);
    }
    char c = in_[pos_];
    if (c == '#') return Comment();
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return NumberOrDuration();
    if (c == '"' || c == '\'') return QuotedString(c);
    if (c == '`') return RawString();
    if (IsAlpha(c) || c == ':') return KeywordOrIdentifier();
    ++pos_;
    return Punctuation(c);
  }

  Token Punctuation(char c) {
    switch (c) {
      case ',':
        return Emit(TokenType::kComma);
      case '*':
        return Emit(TokenType::kMul);
      case '/':
        return Emit(TokenType::kDiv);
      case '%':
        return Emit(TokenType::kMod);
      case '+':
        return Emit(TokenType::kAdd);
      case '-':
        return Emit(TokenType::kSub);
      case '^':
        return Emit(TokenType::kPow);
      case '@':
        return Emit(TokenType::kAt);
      case '=':
        if (Accept("=")) return Emit(TokenType::kEqlc);
        if (Peek() == '~') return Error("unexpected character after '=': '~'");
        return Emit(TokenType::kEql);
      case '!':
        if (Accept("=")) return Emit(TokenType::kNeq);
        return Error("unexpected character after '!': " +
                     (AtEnd() ? std::string("U+FFFFFFFFFFFFFFFF") : QuoteRune(RuneAt(pos_))));
      case '<':
        if (Accept("/")) return Emit(TokenType::kTrimUpper);
        return Emit(Accept("=") ? TokenType::kLte : TokenType::kLss);
      case '>':
        if (Accept("/")) return Emit(TokenType::kTrimLower);
        return Emit(Accept("=") ? TokenType::kGte : TokenType::kGtr);
      case '(':
        ++paren_depth_;
        return Emit(TokenType::kLeftParen);
      case ')': {
        Token t = Emit(TokenType::kRightParen);
        if (--paren_depth_ < 0) return Error("unexpected right parenthesis ')'");
        return t;
      }
      case '{':
        brace_open_ = true;
        return Emit(TokenType::kLeftBrace);
      case '[':
        bracket_open_ = true;
        got_colon_ = false;
        got_duration_ = false;
        return Emit(TokenType::kLeftBracket);
      case ']':
        return Error("unexpected right bracket ']'");
      default:
        --pos_;
        std::string_view r = RuneAt(pos_);
        pos_ += r.size();
        return Error("unexpected character: " + QuoteRune(r));
    }
  }

  Token Comment() {
    while (!AtEnd() && Peek() != '\n' && Peek() != '\r') ++pos_;
    return Emit(TokenType::kComment);
  }

  Token InsideBraces() {
    SkipSpaces();
    if (AtEnd()) return Error("unexpected end of input inside braces");
    char c = in_[pos_];
    if (c == '#') return Comment();
    if (IsAlpha(c)) {
      while (!AtEnd() && IsAlnum(Peek())) ++pos_;
      return Emit(TokenType::kIdentifier);
    }
    if (c == '"' || c == '\'') return QuotedString(c);
    if (c == '`') return RawString();
    ++pos_;
    switch (c) {
      case ',':
        return Emit(TokenType::kComma);
      case '=':
        return Emit(Accept("~") ? TokenType::kEqlRegex : TokenType::kEql);
      case '!':
        if (Accept("~")) return Emit(TokenType::kNeqRegex);
        if (Accept("=")) return Emit(TokenType::kNeq);
        return Error("unexpected character after '!' inside braces: " +
                     (AtEnd() ? std::string("U+FFFFFFFFFFFFFFFF") : QuoteRune(RuneAt(pos_))));
      case '{':
        return Error("unexpected left brace '{'");
      case '}':
        brace_open_ = false;
        return Emit(TokenType::kRightBrace);
      default: {
        --pos_;
        std::string_view r = RuneAt(pos_);
        pos_ += r.size();
        return Error("unexpected character inside braces: " + QuoteRune(r));
      }
    }
  }

  // Inside `[...]`: numbers, durations, arithmetic, step()/range()/min_of/max_of, ':'.
  Token InsideBrackets() {
    SkipSpaces();
    if (AtEnd()) return Error("unexpected end of input in duration expression");
    char c = in_[pos_];
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) {
      got_duration_ = true;
      return NumberOrDuration();
    }
    if (IsAlpha(c)) {
      while (!AtEnd() && IsAlpha(Peek())) ++pos_;
      std::string_view w = in_.substr(start_, pos_ - start_);
      if (EqualFold(w, "step")) return Emit(TokenType::kStep);
      if (EqualFold(w, "range")) return Emit(TokenType::kRange);
      if (EqualFold(w, "min_of")) return Emit(TokenType::kMinOf);
      if (EqualFold(w, "max_of")) return Emit(TokenType::kMaxOf);
      pos_ = start_ + 1;
      return Error("unexpected character in duration expression: " +
                   QuoteRune(in_.substr(start_, 1)));
    }
    ++pos_;
    switch (c) {
      case ']':
        bracket_open_ = false;
        return Emit(TokenType::kRightBracket);
      case ':':
        if (!got_duration_) return Error("unexpected colon before duration in duration expression");
        if (got_colon_) return Error("unexpected repeated colon in duration expression");
        got_colon_ = true;
        return Emit(TokenType::kColon);
      case '(':
        ++paren_depth_;
        return Emit(TokenType::kLeftParen);
      case ')': {
        Token t = Emit(TokenType::kRightParen);
        if (--paren_depth_ < 0) return Error("unexpected right parenthesis ')'");
        return t;
      }
      case '+':
        return Emit(TokenType::kAdd);
      case '-':
        return Emit(TokenType::kSub);
      case '*':
        return Emit(TokenType::kMul);
      case '/':
        return Emit(TokenType::kDiv);
      case '%':
        return Emit(TokenType::kMod);
      case '^':
        return Emit(TokenType::kPow);
      case ',':
        return Emit(TokenType::kComma);
      default: {
        --pos_;
        std::string_view r = RuneAt(pos_);
        pos_ += r.size();
        return Error("unexpected character in duration expression: " + QuoteRune(r));
      }
    }
  }

  Token KeywordOrIdentifier() {
    while (!AtEnd() && (IsAlnum(Peek()) || Peek() == ':')) ++pos_;
    std::string_view word = in_.substr(start_, pos_ - start_);
    if (auto kw = Keyword(word)) {
      // fill/fill_left/fill_right are keywords only before '(' so they stay usable as
      // metric names.
      if ((*kw == TokenType::kFill || *kw == TokenType::kFillLeft ||
           *kw == TokenType::kFillRight) &&
          !FollowedByLeftParen()) {
        return Emit(TokenType::kIdentifier);
      }
      return Emit(*kw);
    }
    if (word.find(':') != std::string_view::npos) return Emit(TokenType::kMetricIdentifier);
    return Emit(TokenType::kIdentifier);
  }

  bool FollowedByLeftParen() const {
    size_t p = pos_;
    while (p < in_.size() && IsSpace(in_[p])) ++p;
    return p < in_.size() && in_[p] == '(';
  }

  Token QuotedString(char quote) {
    ++pos_;
    while (true) {
      if (AtEnd() || Peek() == '\n') return Error("unterminated quoted string");
      char c = in_[pos_];
      if (c == quote) {
        ++pos_;
        return Emit(TokenType::kString);
      }
      if (c == '\\') {
        ++pos_;
        if (auto err = Escape(quote)) return Error(*err);
        continue;
      }
      std::string_view r = RuneAt(pos_);
      if (!ValidRune(r)) return Error("invalid UTF-8 rune");
      pos_ += r.size();
    }
  }

  Token RawString() {
    ++pos_;
    while (true) {
      if (AtEnd()) return Error("unterminated raw string");
      if (Peek() == '`') {
        ++pos_;
        return Emit(TokenType::kString);
      }
      std::string_view r = RuneAt(pos_);
      if (!ValidRune(r)) return Error("invalid UTF-8 rune");
      pos_ += r.size();
    }
  }

  static bool ValidRune(std::string_view r) {
    unsigned char c = static_cast<unsigned char>(r[0]);
    if (c < 0x80) return true;
    if (r.size() == 1) return false;
    for (size_t i = 1; i < r.size(); ++i) {
      if ((static_cast<unsigned char>(r[i]) & 0xC0) != 0x80) return false;
    }
    return true;
  }

  // Validates one escape sequence after a backslash (Go rules); advances past it.
  std::optional<std::string> Escape(char quote) {
    if (AtEnd()) return "escape sequence not terminated";
    char c = in_[pos_++];
    int n = 0;
    uint32_t base = 0, max = 0;
    if (In("abfnrtv\\", c) || c == quote) return std::nullopt;
    if (c >= '0' && c <= '7') {
      n = 3, base = 8, max = 255;
      --pos_;
    } else if (c == 'x') {
      n = 2, base = 16, max = 255;
    } else if (c == 'u') {
      n = 4, base = 16, max = 0x10FFFF;
    } else if (c == 'U') {
      n = 8, base = 16, max = 0x10FFFF;
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "U+%04X '%c'", static_cast<unsigned char>(c), c);
      return std::string("unknown escape sequence ") + buf;
    }
    uint32_t x = 0;
    for (; n > 0; --n) {
      if (AtEnd()) return "escape sequence not terminated";
      char d = in_[pos_];
      uint32_t v = IsDigit(d)               ? d - '0'
                   : (d >= 'a' && d <= 'f') ? d - 'a' + 10
                   : (d >= 'A' && d <= 'F') ? d - 'A' + 10
                                            : 16;
      if (v >= base) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "U+%04X '%c'", static_cast<unsigned char>(d), d);
        return std::string("illegal character ") + buf + " in escape sequence";
      }
      x = x * base + v;
      ++pos_;
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
      return "escape sequence is an invalid Unicode code point";
    }
    return std::nullopt;
  }

  // Scans a number shape at pos_ (not necessarily valid; the parser checks the value).
  bool ScanNumber() {
    size_t initial = pos_;
    std::string_view digits = "0123456789";
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
      pos_ += 2;
      Accept("_");
      digits = "0123456789abcdefABCDEF";
    }
    Accept(".");
    Accept(digits);
    bool dot = false, exp = false;
    while (!AtEnd() && (In(digits, Peek()) || In("._eE", Peek()))) {
      char c = Peek();
      if (c == '.') {
        ++pos_;
        if (dot) return false;
        dot = true;
        if (Accept("_.")) return false;
        if (digits.size() > 10) return false;  // no fractional hex literals
        continue;
      }
      if ((c == 'e' || c == 'E') && digits.size() == 10) {
        ++pos_;
        if (exp) return false;
        exp = true;
        Accept("+-");
        if (Accept("._eE") || AtEnd()) return false;
        continue;
      }
      if (c == '_') {
        ++pos_;
        if (Accept("._eE") || AtEnd()) return false;
        continue;
      }
      AcceptRun(digits);
    }
    if (pos_ == initial) return false;
    return AtEnd() || !IsAlnum(Peek());
  }

  // After a number: unit letters and further number-unit pairs (`1h30m`, `5ms`).
  bool AcceptRemainingDuration() {
    if (!Accept("smhdwy")) return false;
    Accept("s");
    while (Accept("0123456789")) {
      AcceptRun("0123456789");
      if (!Accept("smhdw")) return false;
      Accept("s");
    }
    if (!AtEnd() && IsAlnum(Peek())) {
      ++pos_;  // Prometheus includes the offending character in the error text
      return false;
    }
    return true;
  }

  Token NumberOrDuration() {
    // Like Prometheus, a failed number scan is not undone: the duration units continue
    // where it stopped (`1h30m` scans `1`, then `h30m`).
    if (ScanNumber()) return Emit(TokenType::kNumber);
    if (AcceptRemainingDuration()) return Emit(TokenType::kDuration);
    return Error("bad number or duration syntax: " +
                 QuoteString(in_.substr(start_, pos_ - start_)));
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t start_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool got_duration_ = false;
  std::string error_;
};

}  // namespace

bool IsOperatorToken(TokenType t) { return t >= TokenType::kAdd && t <= TokenType::kTrimLower; }

std::string Token::Describe() const {
  switch (type) {
    case TokenType::kEOF:
      return "end of input";
    case TokenType::kError:
      return std::string(val);
    case TokenType::kIdentifier:
      return "identifier " + QuoteString(val);
    case TokenType::kMetricIdentifier:
      return "metric identifier " + QuoteString(val);
    case TokenType::kAggregator:
      return "<aggr:" + std::string(val) + ">";
    case TokenType::kNumber:
    case TokenType::kDuration:
    case TokenType::kString: {
      std::string kind = type == TokenType::kNumber     ? "number "
                         : type == TokenType::kDuration ? "duration "
                                                        : "string ";
      if (val.size() > 10) {
        std::string q = QuoteString(val.substr(0, 10));
        return kind + q + "...";
      }
      return kind + QuoteString(val);
    }
    default:
      break;
  }
  if (IsOperatorToken(type)) return "<op:" + std::string(val) + ">";
  if (type >= TokenType::kBool && type <= TokenType::kAnchored) {
    return "<" + std::string(val) + ">";
  }
  return QuoteString(val);
}

LexResult Lex(std::string_view input) { return Lexer(input).Run(); }

}  // namespace kiln::promql::parser
