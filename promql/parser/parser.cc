// A recursive-descent PromQL parser with Prometheus's grammar, precedence and error texts.
//
// Binary operators use precedence climbing: or < and/unless < comparisons < + - <
// * / % atan2 < ^ (right-associative). Unary +/- bind like `*` (so `-a^b` is `-(a^b)`).
// Postfix modifiers (`[range]`, `[range:step]`, `offset`, `@`, `anchored`, `smoothed`)
// bind tighter than any operator and apply to the operand just parsed.
#include "promql/parser/parser.h"

#include <cmath>
#include <limits>

#include "pkg/model/labels.h"
#include "promql/parser/check.h"
#include "promql/parser/duration_parser.h"
#include "promql/parser/functions.h"
#include "promql/parser/lexer.h"
#include "promql/parser/literals.h"

namespace kiln::promql::parser {
namespace {

int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless:
      return 2;
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
      return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
    case BinaryOp::kAtan2:
    case BinaryOp::kTrimUpper:
    case BinaryOp::kTrimLower:
      return 5;
    case BinaryOp::kPow:
      return 6;
  }
  return 0;
}
constexpr int kUnaryOperandPrecedence = 6;  // unary binds like `*`: only `^` inside

std::optional<BinaryOp> BinaryOpFor(TokenType t) {
  switch (t) {
    case TokenType::kAdd:
      return BinaryOp::kAdd;
    case TokenType::kSub:
      return BinaryOp::kSub;
    case TokenType::kMul:
      return BinaryOp::kMul;
    case TokenType::kDiv:
      return BinaryOp::kDiv;
    case TokenType::kMod:
      return BinaryOp::kMod;
    case TokenType::kPow:
      return BinaryOp::kPow;
    case TokenType::kAtan2:
      return BinaryOp::kAtan2;
    case TokenType::kEqlc:
      return BinaryOp::kEql;
    case TokenType::kNeq:
      return BinaryOp::kNeq;
    case TokenType::kGtr:
      return BinaryOp::kGtr;
    case TokenType::kLss:
      return BinaryOp::kLss;
    case TokenType::kGte:
      return BinaryOp::kGte;
    case TokenType::kLte:
      return BinaryOp::kLte;
    case TokenType::kLand:
      return BinaryOp::kAnd;
    case TokenType::kLor:
      return BinaryOp::kOr;
    case TokenType::kLunless:
      return BinaryOp::kUnless;
    case TokenType::kTrimUpper:
      return BinaryOp::kTrimUpper;
    case TokenType::kTrimLower:
      return BinaryOp::kTrimLower;
    default:
      return std::nullopt;
  }
}

std::optional<AggregateOp> AggregateOpFor(std::string_view word) {
  static constexpr AggregateOp kOps[] = {
      AggregateOp::kSum,     AggregateOp::kAvg,         AggregateOp::kCount,
      AggregateOp::kMin,     AggregateOp::kMax,         AggregateOp::kGroup,
      AggregateOp::kStddev,  AggregateOp::kStdvar,      AggregateOp::kTopK,
      AggregateOp::kBottomK, AggregateOp::kCountValues, AggregateOp::kQuantile,
      AggregateOp::kLimitK,  AggregateOp::kLimitRatio};
  for (AggregateOp op : kOps) {
    std::string_view name = AggregateOpString(op);
    if (name.size() != word.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) {
      same = std::tolower(static_cast<unsigned char>(word[k])) == name[k];
    }
    if (same) return op;
  }
  return std::nullopt;
}

// Tokens that may name a metric (Prometheus's metric_identifier rule).
bool IsMetricIdentifier(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kAggregator:
    case TokenType::kBy:
    case TokenType::kWithout:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kStart:
    case TokenType::kEnd:
    case TokenType::kStep:
    case TokenType::kRange:
    case TokenType::kSmoothed:
    case TokenType::kAnchored:
      return true;
    default:
      return false;
  }
}

// Tokens usable as a label name in grouping lists (Prometheus's maybe_label rule).
bool IsLabelWord(TokenType t) {
  return IsMetricIdentifier(t) || t == TokenType::kAtan2 || t == TokenType::kBool ||
         t == TokenType::kOn || t == TokenType::kIgnoring || t == TokenType::kGroupLeft ||
         t == TokenType::kGroupRight || t == TokenType::kFill || t == TokenType::kFillLeft ||
         t == TokenType::kFillRight;
}

class Parser : public TokenStream {
 public:
  Parser(std::string_view input, const ParserOptions& options)
      : TokenStream(input), options_(options) {}

  ExprPtr ParseTop() {
    if (Peek().type == TokenType::kEOF) Fail({0, 0}, "no expression found in input");
    ExprPtr e = ParseBinary(0);
    if (Peek().type != TokenType::kEOF) Unexpected("", "");
    CheckAST(*e, options_);
    return e;
  }

  std::vector<model::Matcher> ParseSelectorOnly() {
    if (Peek().type == TokenType::kEOF) Fail({0, 0}, "no expression found in input");
    const Token& t = Peek();
    if (!IsMetricIdentifier(t.type) && t.type != TokenType::kLeftBrace) Unexpected("", "");
    ExprPtr e = ParseVectorSelector();
    if (Peek().type != TokenType::kEOF) Unexpected("", "");
    // No type check, as upstream: `{__name__=~".*"}` is a valid series selector here (promtool's
    // default --match); callers that need a non-empty matcher (the HTTP API) check that.
    return std::move(e->As<VectorSelector>().matchers);
  }

 private:
  // Bounds the depth of the tree (nested calls plus operator chains), so a crafted query
  // cannot overflow the stack of the parser, checker, printer or evaluator, which recurse.
  // Upstream (Go, growable stacks) has no such limit; real queries stay far below it.
  static constexpr int kMaxNesting = 512;
  int depth_ = 0;

  ExprPtr ParseBinary(int min_prec) {
    struct DepthGuard {
      int* depth;
      ~DepthGuard() { --*depth; }
    } guard{&depth_};
    if (++depth_ > kMaxNesting) {
      Fail({Peek().pos, Peek().pos}, "expression nested too deeply (more than 512 levels)");
    }
    ExprPtr lhs = ParseUnary();
    int chain = 0;
    while (true) {
      if (++chain + depth_ > kMaxNesting) {
        Fail({Peek().pos, Peek().pos}, "expression nested too deeply (more than 512 levels)");
      }
      std::optional<BinaryOp> op = BinaryOpFor(Peek().type);
      if (!op || Precedence(*op) < min_prec) return lhs;
      auto b = std::make_unique<BinaryExpr>();
      b->op_pos = Next().pos;
      b->op = *op;
      b->matching.emplace();
      ParseBinModifiers(*b);
      int next_min = *op == BinaryOp::kPow ? Precedence(*op) : Precedence(*op) + 1;
      b->lhs = std::move(lhs);
      b->rhs = ParseBinary(next_min);
      if (!options_.binop_fill_modifiers && (b->matching->fill_lhs || b->matching->fill_rhs)) {
        Fail(b->PositionRange(), "binop fill modifiers are experimental and not enabled");
      }
      lhs = std::move(b);
    }
  }

  void ParseBinModifiers(BinaryExpr& b) {
    if (Peek().type == TokenType::kBool) {
      Next();
      b.return_bool = true;
    }
    VectorMatching& m = *b.matching;
    if (Peek().type == TokenType::kOn || Peek().type == TokenType::kIgnoring) {
      m.on = Next().type == TokenType::kOn;
      m.matching_labels = ParseGroupingLabels();
      if (Peek().type == TokenType::kGroupLeft || Peek().type == TokenType::kGroupRight) {
        m.card = Next().type == TokenType::kGroupLeft ? VectorMatchCardinality::kManyToOne
                                                      : VectorMatchCardinality::kOneToMany;
        if (Peek().type == TokenType::kLeftParen) m.include = ParseGroupingLabels();
      }
    }
    while (Peek().type == TokenType::kFill || Peek().type == TokenType::kFillLeft ||
           Peek().type == TokenType::kFillRight) {
      Token kw = Next();
      Expect(TokenType::kLeftParen, "fill modifier", "\"(\"");
      double v = ParseSignedNumber("fill modifier");
      Expect(TokenType::kRightParen, "fill modifier", "\")\"");
      if (kw.type != TokenType::kFillRight) m.fill_lhs = v;
      if (kw.type != TokenType::kFillLeft) m.fill_rhs = v;
    }
  }

  double ParseSignedNumber(std::string_view context) {
    double sign = 1;
    if (Peek().type == TokenType::kAdd || Peek().type == TokenType::kSub) {
      if (Next().type == TokenType::kSub) sign = -1;
    }
    if (Peek().type != TokenType::kNumber) Unexpected(context, "number");
    return sign * NumberValue(Next());
  }

  double NumberValue(const Token& t) {
    Result<double> v = ParseNumber(t.val);
    if (!v.ok()) Fail({t.pos, t.end()}, v.status().message());
    return *v;
  }

  // `(a, b, "c.d")`, also `()` and a trailing comma.
  std::vector<std::string> ParseGroupingLabels() {
    if (Peek().type != TokenType::kLeftParen) Unexpected("grouping opts", "\"(\"");
    Next();
    std::vector<std::string> labels;
    if (Peek().type == TokenType::kRightParen) {
      Next();
      return labels;
    }
    while (true) {
      const Token& t = Peek();
      if (t.type == TokenType::kString) {
        Result<std::string> s = Unquote(t.val);
        if (!s.ok()) Fail({t.pos, t.end()}, s.status().message());
        labels.push_back(std::move(*s));
      } else if (IsLabelWord(t.type) && model::IsValidLegacyLabelName(t.val)) {
        labels.emplace_back(t.val);
      } else {
        Unexpected("grouping opts", "label");
      }
      Next();
      if (Peek().type == TokenType::kComma) {
        Next();
        if (Peek().type == TokenType::kRightParen) {
          Next();
          return labels;
        }
        continue;
      }
      if (Peek().type == TokenType::kRightParen) {
        Next();
        return labels;
      }
      Unexpected("grouping opts", "\",\" or \")\"");
    }
  }

  ExprPtr ParseUnary() {
    const Token& t = Peek();
    if (t.type != TokenType::kAdd && t.type != TokenType::kSub) return ParsePostfix(ParsePrimary());
    Token op = Next();
    ExprPtr operand = ParseBinary(kUnaryOperandPrecedence);
    if (operand->kind() == Kind::kNumberLiteral) {
      auto& n = operand->As<NumberLiteral>();
      if (op.type == TokenType::kSub) n.val = -n.val;
      n.pos.start = op.pos;
      return operand;
    }
    auto u = std::make_unique<UnaryExpr>();
    u->op = op.type == TokenType::kSub ? BinaryOp::kSub : BinaryOp::kAdd;
    u->expr = std::move(operand);
    u->start_pos = op.pos;
    return u;
  }

  ExprPtr ParsePrimary() {
    const Token& t = Peek();
    switch (t.type) {
      case TokenType::kNumber: {
        auto n = std::make_unique<NumberLiteral>();
        n->val = NumberValue(t);
        n->pos = {t.pos, t.end()};
        Next();
        return n;
      }
      case TokenType::kDuration: {
        auto n = std::make_unique<NumberLiteral>();
        n->val = static_cast<double>(DurationValue(t)) / 1000.0;
        n->duration = true;
        n->pos = {t.pos, t.end()};
        Next();
        return n;
      }
      case TokenType::kString: {
        auto s = std::make_unique<StringLiteral>();
        Result<std::string> v = Unquote(t.val);
        if (!v.ok()) Fail({t.pos, t.end()}, v.status().message());
        s->val = std::move(*v);
        s->pos = {t.pos, t.end()};
        Next();
        return s;
      }
      case TokenType::kLeftParen: {
        Token open = Next();
        auto p = std::make_unique<ParenExpr>();
        p->expr = ParseBinary(0);
        if (Peek().type != TokenType::kRightParen) Unexpected("", "");
        p->pos = {open.pos, Next().end()};
        return p;
      }
      case TokenType::kLeftBrace:
        return ParseVectorSelector();
      case TokenType::kAggregator: {
        TokenType after = PeekAt(1).type;
        if (after == TokenType::kLeftParen || after == TokenType::kBy ||
            after == TokenType::kWithout) {
          return ParseAggregate();
        }
        return ParseVectorSelector();
      }
      default:
        break;
    }
    if ((t.type == TokenType::kIdentifier || t.type == TokenType::kStart ||
         t.type == TokenType::kEnd || t.type == TokenType::kStep || t.type == TokenType::kRange) &&
        PeekAt(1).type == TokenType::kLeftParen) {
      return ParseCall();
    }
    if (IsMetricIdentifier(t.type)) return ParseVectorSelector();
    Unexpected("", "");
  }

  int64_t DurationValue(const Token& t) {
    Result<int64_t> d = ParseDuration(t.val);
    if (!d.ok()) Fail({t.pos, t.end()}, d.status().message());
    return *d;
  }

  ExprPtr ParseCall() {
    Token name = Next();
    const Function* fn = LookupFunction(name.val);
    if (fn == nullptr) {
      Fail({name.pos, name.end()}, "unknown function with name \"" + std::string(name.val) + "\"");
    }
    if (fn->experimental && !options_.experimental_functions) {
      Fail({name.pos, name.end()}, "function \"" + std::string(name.val) + "\" is not enabled");
    }
    auto c = std::make_unique<Call>();
    c->func = fn;
    Pos end = ParseCallArgs(c->args);
    c->pos = {name.pos, end};
    if (fn->name == "info" && c->args.size() > 1 && c->args[1]->kind() == Kind::kVectorSelector) {
      c->args[1]->As<VectorSelector>().bypass_empty_matcher_check = true;
    }
    return c;
  }

  // `( expr, expr … )`; returns the end of the closing parenthesis.
  Pos ParseCallArgs(std::vector<ExprPtr>& args) {
    Expect(TokenType::kLeftParen, "", "");
    if (Peek().type == TokenType::kRightParen) return Next().end();
    while (true) {
      args.push_back(ParseBinary(0));
      if (Peek().type == TokenType::kRightParen) return Next().end();
      if (Peek().type != TokenType::kComma) Unexpected("", "");
      Token comma = Next();
      if (Peek().type == TokenType::kRightParen) {
        Fail({comma.pos, comma.end()}, "trailing commas not allowed in function call args");
      }
    }
  }

  ExprPtr ParseAggregate() {
    Token op_tok = Next();
    auto a = std::make_unique<AggregateExpr>();
    a->op = *AggregateOpFor(op_tok.val);
    if ((a->op == AggregateOp::kLimitK || a->op == AggregateOp::kLimitRatio) &&
        !options_.experimental_functions) {
      Fail({op_tok.pos, op_tok.end()}, std::string(AggregateOpString(a->op)) +
                                           "() is experimental and must be enabled with "
                                           "--enable-feature=promql-experimental-functions");
    }
    bool modifier_first = ParseAggregateModifier(*a);
    std::vector<ExprPtr> args;
    if (Peek().type != TokenType::kLeftParen) Unexpected("aggregation", "");
    Pos end = ParseCallArgs(args);
    if (!modifier_first && (Peek().type == TokenType::kBy || Peek().type == TokenType::kWithout)) {
      ParseAggregateModifier(*a);
      end = last_end_;
    }
    a->pos = {op_tok.pos, end};
    if (args.empty()) Fail(a->pos, "no arguments for aggregate expression provided");
    size_t want = AggregateOpHasParam(a->op) ? 2 : 1;
    if (args.size() != want) {
      Fail(a->pos, "wrong number of arguments for aggregate expression provided, expected " +
                       std::to_string(want) + ", got " + std::to_string(args.size()));
    }
    if (want == 2) a->param = std::move(args[0]);
    a->expr = std::move(args.back());
    return a;
  }

  bool ParseAggregateModifier(AggregateExpr& a) {
    if (Peek().type != TokenType::kBy && Peek().type != TokenType::kWithout) return false;
    a.without = Next().type == TokenType::kWithout;
    a.grouping = ParseGroupingLabels();
    return true;
  }

  ExprPtr ParseVectorSelector() {
    auto vs = std::make_unique<VectorSelector>();
    Pos start = Peek().pos;
    Pos end = Peek().end();
    if (Peek().type != TokenType::kLeftBrace) vs->name = std::string(Next().val);
    if (Peek().type == TokenType::kLeftBrace) end = ParseLabelMatchers(vs->matchers);
    if (!vs->name.empty()) {
      Result<model::Matcher> m =
          model::Matcher::Make(model::MatchType::kEqual, model::kMetricName, vs->name);
      vs->matchers.push_back(std::move(*m));
    }
    vs->pos = {start, end};
    return vs;
  }

  // `{a="b", "c"!~"d", "metric"}`; returns the end of the closing brace.
  Pos ParseLabelMatchers(std::vector<model::Matcher>& out) {
    Next();  // {
    while (true) {
      if (Peek().type == TokenType::kRightBrace) return Next().end();
      ParseLabelMatcher(out);
      if (Peek().type == TokenType::kComma) {
        Next();
        continue;
      }
      if (Peek().type != TokenType::kRightBrace) Unexpected("label matching", "\",\" or \"}\"");
    }
  }

  void ParseLabelMatcher(std::vector<model::Matcher>& out) {
    Token name = Peek();
    std::string label;
    if (name.type == TokenType::kIdentifier) {
      label = std::string(name.val);
    } else if (name.type == TokenType::kString) {
      label = UnquoteOrFail(name);
    } else {
      Unexpected("label matching", "identifier or \"}\"");
    }
    Next();
    model::MatchType type;
    switch (Peek().type) {
      case TokenType::kEql:
        type = model::MatchType::kEqual;
        break;
      case TokenType::kNeq:
        type = model::MatchType::kNotEqual;
        break;
      case TokenType::kEqlRegex:
        type = model::MatchType::kRegexMatch;
        break;
      case TokenType::kNeqRegex:
        type = model::MatchType::kRegexNoMatch;
        break;
      default:
        if (name.type == TokenType::kString) {
          // A lone quoted string is the metric name: {"my.metric"}.
          out.push_back(*model::Matcher::Make(model::MatchType::kEqual, model::kMetricName, label));
          return;
        }
        Unexpected("label matching", "label matching operator");
    }
    Next();
    if (Peek().type != TokenType::kString) Unexpected("label matching", "string");
    Token value = Next();
    Result<model::Matcher> m = model::Matcher::Make(type, label, UnquoteOrFail(value));
    if (!m.ok()) Fail({name.pos, value.end()}, m.status().message());
    out.push_back(std::move(*m));
  }

  std::string UnquoteOrFail(const Token& t) {
    Result<std::string> s = Unquote(t.val);
    if (!s.ok()) Fail({t.pos, t.end()}, s.status().message());
    return std::move(*s);
  }

  ExprPtr ParsePostfix(ExprPtr e) {
    while (true) {
      switch (Peek().type) {
        case TokenType::kLeftBracket:
          e = ParseRangeOrSubquery(std::move(e));
          break;
        case TokenType::kOffset:
          ParseOffset(*e);
          break;
        case TokenType::kAt:
          ParseAt(*e);
          break;
        case TokenType::kAnchored:
        case TokenType::kSmoothed:
          ParseExtendedModifier(*e);
          break;
        default:
          return e;
      }
    }
  }

  bool CanStartDuration(TokenType t) const {
    if (t == TokenType::kNumber || t == TokenType::kDuration) return true;
    return t == TokenType::kLeftParen || t == TokenType::kAdd || t == TokenType::kSub ||
           t == TokenType::kStep || t == TokenType::kRange || t == TokenType::kMinOf ||
           t == TokenType::kMaxOf;
  }

  ExprPtr ParseRangeOrSubquery(ExprPtr e) {
    Token open = Next();
    if (!CanStartDuration(Peek().type)) Unexpected("subquery selector", "number or duration");
    DurationValueOrExpr range = ParseDurationOperand(/*bracketed=*/true);
    if (Peek().type == TokenType::kRightBracket) {
      Token close = Next();
      return MakeMatrix(std::move(e), std::move(range), open, close);
    }
    if (Peek().type != TokenType::kColon) Unexpected("subquery or range", "\":\" or \"]\"");
    Next();
    auto sq = std::make_unique<SubqueryExpr>();
    sq->range = range.ms;
    sq->range_expr = std::move(range.expr);
    if (Peek().type != TokenType::kRightBracket) {
      if (!CanStartDuration(Peek().type)) {
        Unexpected("subquery selector", "number or duration or \"]\"");
      }
      DurationValueOrExpr step = ParseDurationOperand(/*bracketed=*/true);
      sq->step = step.ms;
      sq->step_expr = std::move(step.expr);
      if (Peek().type != TokenType::kRightBracket) Unexpected("subquery selector", "\"]\"");
    }
    sq->end_pos = Next().end();
    sq->expr = std::move(e);
    return sq;
  }

  ExprPtr MakeMatrix(ExprPtr e, DurationValueOrExpr range, const Token& open, const Token& close) {
    std::string err;
    if (e->kind() != Kind::kVectorSelector) {
      err = "ranges only allowed for vector selectors";
    } else if (const auto& vs = e->As<VectorSelector>();
               vs.original_offset != 0 || vs.original_offset_expr) {
      err = "no offset modifiers allowed before range";
    } else if (vs.timestamp || vs.start_or_end != StartOrEnd::kNone) {
      err = "no @ modifiers allowed before range";
    }
    if (!err.empty()) Fail({open.pos, close.end()}, err);
    auto m = std::make_unique<MatrixSelector>();
    m->vector_selector = std::move(e);
    m->range = range.ms;
    m->range_expr = std::move(range.expr);
    m->end_pos = close.end();
    return m;
  }

  // The selector or subquery a modifier applies to, with the end position to extend.
  struct ModifierTarget {
    int64_t* original_offset = nullptr;
    ExprPtr* original_offset_expr = nullptr;
    int64_t* offset = nullptr;
    std::optional<int64_t>* timestamp = nullptr;
    StartOrEnd* start_or_end = nullptr;
    Pos* end = nullptr;
  };

  ModifierTarget TargetOf(Expr& e, std::string_view what) {
    ModifierTarget t;
    if (e.kind() == Kind::kVectorSelector || e.kind() == Kind::kMatrixSelector) {
      VectorSelector& vs =
          e.kind() == Kind::kVectorSelector ? e.As<VectorSelector>() : e.As<MatrixSelector>().vs();
      t = {&vs.original_offset,
           &vs.original_offset_expr,
           &vs.offset,
           &vs.timestamp,
           &vs.start_or_end,
           e.kind() == Kind::kVectorSelector ? &vs.pos.end : &e.As<MatrixSelector>().end_pos};
    } else if (e.kind() == Kind::kSubquery) {
      auto& s = e.As<SubqueryExpr>();
      t = {&s.original_offset, &s.original_offset_expr, &s.offset,
           &s.timestamp,       &s.start_or_end,         &s.end_pos};
    } else {
      Fail(e.PositionRange(), std::string(what) +
                                  " modifier must be preceded by an instant vector selector or "
                                  "range vector selector or a subquery");
    }
    return t;
  }

  void ParseOffset(Expr& e) {
    Next();
    ModifierTarget t = TargetOf(e, "offset");
    if (*t.original_offset != 0 || *t.original_offset_expr) {
      Fail(e.PositionRange(), "offset may not be set multiple times");
    }
    DurationValueOrExpr d = ParseDurationOperand(/*bracketed=*/false);
    *t.original_offset = d.ms;
    *t.offset = d.ms;
    *t.original_offset_expr = std::move(d.expr);
    *t.end = last_end_;
  }

  void ParseAt(Expr& e) {
    Next();
    ModifierTarget t = TargetOf(e, "@");
    if (*t.timestamp || *t.start_or_end != StartOrEnd::kNone) {
      Fail(e.PositionRange(), "@ <timestamp> may not be set multiple times");
    }
    if (Peek().type == TokenType::kStart || Peek().type == TokenType::kEnd) {
      *t.start_or_end = Next().type == TokenType::kStart ? StartOrEnd::kStart : StartOrEnd::kEnd;
      Expect(TokenType::kLeftParen, "@", "\"(\"");
      Expect(TokenType::kRightParen, "@", "\")\"");
      *t.end = last_end_;
      return;
    }
    double sign = 1;
    if (Peek().type == TokenType::kAdd || Peek().type == TokenType::kSub) {
      if (Next().type == TokenType::kSub) sign = -1;
    }
    double secs;
    if (Peek().type == TokenType::kNumber) {
      secs = NumberValue(Peek());
    } else if (Peek().type == TokenType::kDuration) {
      secs = static_cast<double>(DurationValue(Peek())) / 1000.0;
    } else {
      Unexpected("@", "timestamp");
    }
    Next();
    secs *= sign;
    if (std::isnan(secs) || std::isinf(secs) ||
        secs * 1000 >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
        secs * 1000 <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
      char buf[400];
      if (std::isinf(secs)) {
        std::snprintf(buf, sizeof buf, "%s", secs > 0 ? "+Inf" : "-Inf");
      } else if (std::isnan(secs)) {
        std::snprintf(buf, sizeof buf, "NaN");
      } else {
        std::snprintf(buf, sizeof buf, "%f", secs);
      }
      Fail(e.PositionRange(), std::string("timestamp out of bounds for @ modifier: ") + buf);
    }
    *t.timestamp = static_cast<int64_t>(std::round(secs * 1000));
    *t.end = last_end_;
  }

  void ParseExtendedModifier(Expr& e) {
    Token kw = Next();
    const std::string name(kw.type == TokenType::kAnchored ? "anchored" : "smoothed");
    if (!options_.extended_range_selectors) {
      Fail(e.PositionRange(), name + " modifier is experimental and not enabled");
    }
    if (e.kind() == Kind::kSubquery) {
      Fail(e.PositionRange(), name + " modifier is not supported for subqueries");
    }
    VectorSelector* vs = nullptr;
    if (e.kind() == Kind::kVectorSelector) vs = &e.As<VectorSelector>();
    if (e.kind() == Kind::kMatrixSelector) vs = &e.As<MatrixSelector>().vs();
    if (vs == nullptr) Fail(e.PositionRange(), name + " modifier not implemented");
    (kw.type == TokenType::kAnchored ? vs->anchored : vs->smoothed) = true;
    if (vs->anchored && vs->smoothed) {
      Fail(e.PositionRange(), "anchored and smoothed modifiers cannot be used together");
    }
    if (e.kind() == Kind::kVectorSelector) {
      vs->pos.end = kw.end();
    } else {
      e.As<MatrixSelector>().end_pos = kw.end();
    }
  }

  DurationValueOrExpr ParseDurationOperand(bool bracketed) {
    DurationParser dp(*this, options_);
    return bracketed ? dp.ParseBracketed() : dp.ParseOffset();
  }

  const ParserOptions options_;  // a copy: callers may pass temporaries
};

Status ToStatus(const ParseError& e, std::string_view input) {
  Pos pos = std::max<Pos>(0, std::min<Pos>(e.pos.start, static_cast<Pos>(input.size())));
  int line = 1;
  Pos last_nl = -1;
  for (Pos i = 0; i < pos; ++i) {
    if (input[i] == '\n') {
      ++line;
      last_nl = i;
    }
  }
  int col = static_cast<int>(pos - last_nl);
  return Status::BadData(std::to_string(line) + ":" + std::to_string(col) +
                         ": parse error: " + e.msg);
}

}  // namespace

Result<ExprPtr> ParseExpr(std::string_view input, const ParserOptions& options) {
  try {
    Parser p(input, options);
    return p.ParseTop();
  } catch (const ParseError& e) {
    return ToStatus(e, input);
  }
}

Result<std::vector<model::Matcher>> ParseMetricSelector(std::string_view input) {
  try {
    Parser p(input, ParserOptions{});
    return p.ParseSelectorOnly();
  } catch (const ParseError& e) {
    return ToStatus(e, input);
  }
}

}  // namespace kiln::promql::parser
