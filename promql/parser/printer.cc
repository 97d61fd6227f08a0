// String(): the one-line form of a tree, matching Prometheus's printer.go output.
#include "promql/parser/printer.h"

#include <cmath>

#include <algorithm>
#include <cstdio>

#include "pkg/model/labels.h"
#include "promql/parser/duration_parser.h"
#include "promql/parser/functions.h"
#include "promql/parser/literals.h"

namespace kiln::promql::parser {
namespace {

void WriteLabels(std::string* out, const std::vector<std::string>& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) *out += ", ";
    *out += model::IsValidLegacyLabelName(labels[i]) ? labels[i] : GoQuote(labels[i]);
  }
}

void WriteAt(std::string* out, const std::optional<int64_t>& ts, StartOrEnd se) {
  if (ts) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " @ %.3f", static_cast<double>(*ts) / 1000.0);
    *out += buf;
  } else if (se == StartOrEnd::kStart) {
    *out += " @ start()";
  } else if (se == StartOrEnd::kEnd) {
    *out += " @ end()";
  }
}

void WriteOffset(std::string* out, int64_t offset, const ExprPtr& offset_expr) {
  if (offset_expr) {
    *out += " offset ";
    *out += offset_expr->ToString();
  } else if (offset > 0) {
    *out += " offset " + FormatDuration(offset);
  } else if (offset < 0) {
    *out += " offset -" + FormatDuration(-offset);
  }
}

std::string RangeString(int64_t range, const ExprPtr& range_expr) {
  return range_expr ? range_expr->ToString() : FormatDuration(range);
}

// Like Matcher::ToString, but with Go's quoting of invalid UTF-8.
std::string MatcherString(const model::Matcher& m) {
  std::string s = model::IsValidLegacyLabelName(m.name()) ? m.name() : GoQuote(m.name());
  s += model::MatchTypeString(m.type());
  s += GoQuote(m.value());
  return s;
}

// The selector without modifiers: name{sorted matchers}.
void WriteSelectorBody(std::string* out, const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const auto& m : vs.matchers) {
    if (m.name() == model::kMetricName && m.type() == model::MatchType::kEqual &&
        m.value() == vs.name && !vs.name.empty()) {
      continue;
    }
    parts.push_back(MatcherString(m));
  }
  *out += vs.name;
  if (parts.empty()) {
    // A selector with neither name nor matchers (info()'s `{}` argument) still needs braces.
    if (vs.name.empty()) *out += "{}";
    return;
  }
  std::sort(parts.begin(), parts.end());
  *out += '{';
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) *out += ',';
    *out += parts[i];
  }
  *out += '}';
}

void WriteExtended(std::string* out, const VectorSelector& vs) {
  if (vs.anchored) {
    *out += " anchored";
  } else if (vs.smoothed) {
    *out += " smoothed";
  }
}

std::string MatchingString(const BinaryExpr& b) {
  std::string s;
  if (!b.matching) return s;
  const VectorMatching& m = *b.matching;
  bool grouped =
      m.card == VectorMatchCardinality::kManyToOne || m.card == VectorMatchCardinality::kOneToMany;
  if (!m.matching_labels.empty() || m.on || grouped) {
    s += m.on ? " on (" : " ignoring (";
    WriteLabels(&s, m.matching_labels);
    s += ")";
  }
  if (grouped) {
    s += m.card == VectorMatchCardinality::kManyToOne ? " group_left (" : " group_right (";
    WriteLabels(&s, m.include);
    s += ")";
  }
  if (m.fill_lhs && m.fill_rhs && *m.fill_lhs == *m.fill_rhs) {
    s += " fill (" + FormatFloatG(*m.fill_lhs) + ")";
  } else {
    if (m.fill_lhs) s += " fill_left (" + FormatFloatG(*m.fill_lhs) + ")";
    if (m.fill_rhs) s += " fill_right (" + FormatFloatG(*m.fill_rhs) + ")";
  }
  return s;
}

std::string DurationString(const DurationExpr& d) {
  std::string s;
  if (d.wrapped) s += '(';
  switch (d.op) {
    case DurationOp::kStep:
      s += "step()";
      break;
    case DurationOp::kRange:
      s += "range()";
      break;
    case DurationOp::kMinOf:
    case DurationOp::kMaxOf:
      s += d.op == DurationOp::kMinOf ? "min_of(" : "max_of(";
      s += d.lhs->ToString() + ", " + d.rhs->ToString() + ")";
      break;
    default:
      if (!d.lhs) {
        if (d.op == DurationOp::kSub) s += '-';
        s += d.rhs->ToString();
      } else {
        static constexpr std::string_view kOps[] = {"+", "-", "*", "/", "%", "^"};
        s += d.lhs->ToString() + " " + std::string(kOps[static_cast<int>(d.op)]) + " " +
             d.rhs->ToString();
      }
  }
  if (d.wrapped) s += ')';
  return s;
}

std::string NumberString(const NumberLiteral& n) {
  if (!n.duration) return FormatFloat(n.val);
  int64_t ms = SecondsToMs(n.val);
  return ms < 0 ? "-" + FormatDuration(-ms) : FormatDuration(ms);
}

// `+Inf ^ x` would reparse as unary plus over `Inf ^ x` (unary binds looser than `^`), so a
// +Inf literal on the left of `^` prints unsigned; elsewhere "+Inf" round-trips and matches
// upstream's printer.
std::string PowLhsString(const BinaryExpr& b) {
  if (b.op == BinaryOp::kPow && b.lhs->kind() == Kind::kNumberLiteral) {
    const auto& n = b.lhs->As<NumberLiteral>();
    if (!n.duration && std::isinf(n.val) && n.val > 0) return "Inf";
  }
  return b.lhs->ToString();
}

std::string AggregateString(const AggregateExpr& a) {
  std::string s(AggregateOpString(a.op));
  if (a.without || !a.grouping.empty()) {
    s += a.without ? " without (" : " by (";
    WriteLabels(&s, a.grouping);
    s += ") ";
  }
  s += '(';
  if (a.param) s += a.param->ToString() + ", ";
  s += a.expr->ToString();
  s += ')';
  return s;
}

std::string SubqueryString(const SubqueryExpr& sq) {
  std::string s = sq.expr->ToString();
  s += '[' + RangeString(sq.range, sq.range_expr) + ':';
  if (sq.step_expr) {
    s += sq.step_expr->ToString();
  } else if (sq.step != 0) {
    s += FormatDuration(sq.step);
  }
  s += ']';
  WriteAt(&s, sq.timestamp, sq.start_or_end);
  WriteOffset(&s, sq.original_offset, sq.original_offset_expr);
  return s;
}

}  // namespace

std::string ExprString(const Expr& e) {
  switch (e.kind()) {
    case Kind::kAggregate:
      return AggregateString(e.As<AggregateExpr>());
    case Kind::kBinary: {
      const auto& b = e.As<BinaryExpr>();
      return PowLhsString(b) + " " + std::string(BinaryOpString(b.op)) +
             (b.return_bool ? " bool" : "") + MatchingString(b) + " " + b.rhs->ToString();
    }
    case Kind::kCall: {
      const auto& c = e.As<Call>();
      std::string s(c.func->name);
      s += '(';
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) s += ", ";
        s += c.args[i]->ToString();
      }
      return s + ')';
    }
    case Kind::kDuration:
      return DurationString(e.As<DurationExpr>());
    case Kind::kMatrixSelector: {
      const auto& m = e.As<MatrixSelector>();
      const VectorSelector& vs = m.vs();
      std::string s;
      WriteSelectorBody(&s, vs);
      s += '[' + RangeString(m.range, m.range_expr) + ']';
      WriteExtended(&s, vs);
      WriteAt(&s, vs.timestamp, vs.start_or_end);
      WriteOffset(&s, vs.original_offset, vs.original_offset_expr);
      return s;
    }
    case Kind::kNumberLiteral:
      return NumberString(e.As<NumberLiteral>());
    case Kind::kParen:
      return "(" + e.As<ParenExpr>().expr->ToString() + ")";
    case Kind::kStepInvariant:
      return e.As<StepInvariantExpr>().expr->ToString();
    case Kind::kStringLiteral: {
      return GoQuote(e.As<StringLiteral>().val);
    }
    case Kind::kSubquery:
      return SubqueryString(e.As<SubqueryExpr>());
    case Kind::kUnary: {
      const auto& u = e.As<UnaryExpr>();
      return std::string(BinaryOpString(u.op)) + u.expr->ToString();
    }
    case Kind::kVectorSelector: {
      const auto& vs = e.As<VectorSelector>();
      std::string s;
      WriteSelectorBody(&s, vs);
      WriteAt(&s, vs.timestamp, vs.start_or_end);
      WriteExtended(&s, vs);
      WriteOffset(&s, vs.original_offset, vs.original_offset_expr);
      return s;
    }
  }
  return "";
}

std::string Expr::ToString() const { return ExprString(*this); }

}  // namespace kiln::promql::parser
