#include "promql/parser/duration_parser.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "promql/parser/literals.h"

namespace kiln::promql::parser {
namespace {

std::optional<DurationOp> DurationBinaryOp(TokenType t) {
  switch (t) {
    case TokenType::kAdd:
      return DurationOp::kAdd;
    case TokenType::kSub:
      return DurationOp::kSub;
    case TokenType::kMul:
      return DurationOp::kMul;
    case TokenType::kDiv:
      return DurationOp::kDiv;
    case TokenType::kMod:
      return DurationOp::kMod;
    case TokenType::kPow:
      return DurationOp::kPow;
    default:
      return std::nullopt;
  }
}

int DurationPrecedence(DurationOp op) {
  switch (op) {
    case DurationOp::kAdd:
    case DurationOp::kSub:
      return 1;
    case DurationOp::kMul:
    case DurationOp::kDiv:
    case DurationOp::kMod:
      return 2;
    default:
      return 3;  // ^
  }
}

bool WordIs(const Token& t, std::string_view lower) {
  if (t.val.size() != lower.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(t.val[i])) != lower[i]) return false;
  }
  return true;
}

// min_of/max_of: their own tokens inside brackets, identifiers elsewhere.
std::optional<DurationOp> MinMaxOp(const Token& t) {
  if (t.type == TokenType::kMinOf) return DurationOp::kMinOf;
  if (t.type == TokenType::kMaxOf) return DurationOp::kMaxOf;
  if (t.type == TokenType::kIdentifier && WordIs(t, "min_of")) return DurationOp::kMinOf;
  if (t.type == TokenType::kIdentifier && WordIs(t, "max_of")) return DurationOp::kMaxOf;
  return std::nullopt;
}

bool IsLiteral(const Expr& e) { return e.kind() == Kind::kNumberLiteral; }

}  // namespace

DurationValueOrExpr DurationParser::ParseBracketed() {
  return Finish(ParseBinary(0), /*allow_negative=*/false);
}

DurationValueOrExpr DurationParser::ParseOffset() {
  const Token& first = ts_.Peek();
  const bool signed_operand = first.type == TokenType::kAdd || first.type == TokenType::kSub;
  const Token& operand_tok = ts_.PeekAt(signed_operand ? 1 : 0);
  if (operand_tok.type != TokenType::kNumber && operand_tok.type != TokenType::kDuration &&
      operand_tok.type != TokenType::kLeftParen && operand_tok.type != TokenType::kStep &&
      operand_tok.type != TokenType::kRange && !MinMaxOp(operand_tok)) {
    if (signed_operand) ts_.Next();
    ts_.Unexpected("offset", "number or duration");
  }
  if (signed_operand) {
    Token op = ts_.Next();
    ExprPtr operand = ParsePrimary();
    if (IsLiteral(*operand)) {
      auto& n = operand->As<NumberLiteral>();
      if (op.type == TokenType::kSub) n.val = -n.val;
      n.pos.start = op.pos;
      return Finish(std::move(operand), /*allow_negative=*/true);
    }
    auto u = std::make_unique<DurationExpr>();
    u->op = op.type == TokenType::kSub ? DurationOp::kSub : DurationOp::kAdd;
    u->rhs = std::move(operand);
    u->start_pos = op.pos;
    return Finish(std::move(u), /*allow_negative=*/true);
  }
  return Finish(ParsePrimary(), /*allow_negative=*/true);
}

ExprPtr DurationParser::ParseBinary(int min_prec) {
  ExprPtr lhs = ParseUnary();
  while (true) {
    std::optional<DurationOp> op = DurationBinaryOp(ts_.Peek().type);
    if (!op || DurationPrecedence(*op) < min_prec) return lhs;
    ts_.Next();
    int prec = DurationPrecedence(*op);
    auto b = std::make_unique<DurationExpr>();
    b->op = *op;
    b->lhs = std::move(lhs);
    b->rhs = ParseBinary(*op == DurationOp::kPow ? prec : prec + 1);
    lhs = std::move(b);
  }
}

ExprPtr DurationParser::ParseUnary() {
  const Token& t = ts_.Peek();
  if (t.type != TokenType::kAdd && t.type != TokenType::kSub) return ParsePrimary();
  Token op = ts_.Next();
  ExprPtr operand = ParseBinary(DurationPrecedence(DurationOp::kPow));
  if (IsLiteral(*operand)) {
    auto& n = operand->As<NumberLiteral>();
    if (op.type == TokenType::kSub) n.val = -n.val;
    n.pos.start = op.pos;
    return operand;
  }
  auto u = std::make_unique<DurationExpr>();
  u->op = op.type == TokenType::kSub ? DurationOp::kSub : DurationOp::kAdd;
  u->rhs = std::move(operand);
  u->start_pos = op.pos;
  return u;
}

ExprPtr DurationParser::ParsePrimary() {
  const Token& t = ts_.Peek();
  if (t.type == TokenType::kNumber || t.type == TokenType::kDuration) {
    Token tok = ts_.Next();
    auto n = std::make_unique<NumberLiteral>();
    n->pos = {tok.pos, tok.end()};
    if (tok.type == TokenType::kNumber) {
      Result<double> v = ParseNumber(tok.val);
      if (!v.ok()) ts_.Fail(n->pos, v.status().message());
      n->val = *v;
    } else {
      Result<int64_t> ms = ParseDuration(tok.val);
      if (!ms.ok()) ts_.Fail(n->pos, ms.status().message());
      n->val = static_cast<double>(*ms) / 1000.0;
      n->duration = true;
    }
    return n;
  }
  if (t.type == TokenType::kLeftParen) {
    Token open = ts_.Next();
    ExprPtr inner = ParseBinary(0);
    if (ts_.Peek().type != TokenType::kRightParen) ts_.Unexpected("duration expression", "\")\"");
    Token close = ts_.Next();
    if (inner->kind() == Kind::kDuration && !inner->As<DurationExpr>().wrapped) {
      inner->As<DurationExpr>().wrapped = true;
      return inner;
    }
    // A parenthesised literal (or doubly wrapped expression) keeps its parentheses as a
    // wrapped unary plus, so the printer reproduces them.
    auto w = std::make_unique<DurationExpr>();
    w->op = DurationOp::kAdd;
    w->rhs = std::move(inner);
    w->wrapped = true;
    w->start_pos = open.pos;
    w->end_pos = close.end();
    return w;
  }
  if (t.type == TokenType::kStep || t.type == TokenType::kRange) {
    Token kw = ts_.Next();
    ts_.Expect(TokenType::kLeftParen, "duration expression", "\"(\"");
    ts_.Expect(TokenType::kRightParen, "duration expression", "\")\"");
    auto d = std::make_unique<DurationExpr>();
    d->op = kw.type == TokenType::kStep ? DurationOp::kStep : DurationOp::kRange;
    d->start_pos = kw.pos;
    d->end_pos = ts_.last_end();
    return d;
  }
  if (std::optional<DurationOp> op = MinMaxOp(t)) return ParseMinMax(*op);
  ts_.Unexpected("duration expression", "number, duration, step(), range(), min_of() or max_of()");
}

ExprPtr DurationParser::ParseMinMax(DurationOp op) {
  Token kw = ts_.Next();
  ts_.Expect(TokenType::kLeftParen, "duration expression", "\"(\"");
  auto d = std::make_unique<DurationExpr>();
  d->op = op;
  d->start_pos = kw.pos;
  d->lhs = ParseBinary(0);
  ts_.Expect(TokenType::kComma, "duration expression", "\",\"");
  d->rhs = ParseBinary(0);
  if (ts_.Peek().type != TokenType::kRightParen) ts_.Unexpected("duration expression", "\")\"");
  d->end_pos = ts_.Next().end();
  return d;
}

DurationValueOrExpr DurationParser::Finish(ExprPtr e, bool allow_negative) {
  DurationValueOrExpr out;
  if (!IsLiteral(*e) && !options_.duration_expressions) {
    ts_.Fail(e->PositionRange(), "experimental duration expression is not enabled");
  }
  if (IsLiteral(*e)) {
    const auto& n = e->As<NumberLiteral>();
    // Beyond ±2^63 ns a duration cannot be represented (Prometheus's limit).
    if (std::isnan(n.val) || std::fabs(n.val) > 9223372036.854775807) {
      ts_.Fail(n.pos, "duration out of range");
    }
    out.ms = SecondsToMs(n.val);
    if (!allow_negative && out.ms < 0) ts_.Fail(n.pos, "duration must be greater than 0");
    return out;
  }
  if (!DurationNeedsQueryParams(*e)) {
    double s = EvalDurationSeconds(*e, 0, 0);
    if (std::isnan(s) || std::isinf(s)) ts_.Fail(e->PositionRange(), "duration must be finite");
    out.ms = SecondsToMs(s);
    if (!allow_negative && out.ms <= 0) {
      ts_.Fail(e->PositionRange(), "duration must be greater than 0");
    }
  }
  out.expr = std::move(e);
  return out;
}

bool DurationNeedsQueryParams(const Expr& e) {
  if (e.kind() != Kind::kDuration) return false;
  const auto& d = e.As<DurationExpr>();
  if (d.op == DurationOp::kStep || d.op == DurationOp::kRange) return true;
  return (d.lhs && DurationNeedsQueryParams(*d.lhs)) || (d.rhs && DurationNeedsQueryParams(*d.rhs));
}

double EvalDurationSeconds(const Expr& e, double step_s, double range_s) {
  if (e.kind() == Kind::kNumberLiteral) return e.As<NumberLiteral>().val;
  const auto& d = e.As<DurationExpr>();
  if (d.op == DurationOp::kStep) return step_s;
  if (d.op == DurationOp::kRange) return range_s;
  double r = EvalDurationSeconds(*d.rhs, step_s, range_s);
  if (!d.lhs) return d.op == DurationOp::kSub ? -r : r;
  double l = EvalDurationSeconds(*d.lhs, step_s, range_s);
  switch (d.op) {
    case DurationOp::kAdd:
      return l + r;
    case DurationOp::kSub:
      return l - r;
    case DurationOp::kMul:
      return l * r;
    case DurationOp::kDiv:
      return l / r;
    case DurationOp::kMod:
      return std::fmod(l, r);
    case DurationOp::kPow:
      return std::pow(l, r);
    case DurationOp::kMinOf:
      return std::min(l, r);
    case DurationOp::kMaxOf:
      return std::max(l, r);
    default:
      return 0;
  }
}

int64_t SecondsToMs(double s) {
  double ms = s * 1000;
  if (ms >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
    return std::numeric_limits<int64_t>::max();
  }
  if (ms <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
    return std::numeric_limits<int64_t>::min();
  }
  // 1.001s * 1000 is 1000.9999999999999 in binary floating point: snap values within
  // float noise of a whole millisecond, truncate everything else.
  double nearest = std::round(ms);
  if (std::fabs(ms - nearest) < 1e-6) return static_cast<int64_t>(nearest);
  return static_cast<int64_t>(ms);
}

}  // namespace kiln::promql::parser
