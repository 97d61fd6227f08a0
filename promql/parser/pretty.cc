// Pretty(): Prometheus's format_query layout. A node that fits in kMaxPrettyWidth columns
// is printed on one line; otherwise its children go on their own lines, indented by two
// spaces per level.
#include <string>

#include "promql/parser/functions.h"
#include "promql/parser/printer.h"

namespace kiln::promql::parser {
namespace {

std::string Indent(int level) { return std::string(2 * static_cast<size_t>(level), ' '); }

bool NeedsSplit(const Expr& e) {
  return e.ToString().size() > static_cast<size_t>(kMaxPrettyWidth);
}

// Everything of a binary expression between its operands: "+ bool on (a)".
std::string OperatorString(const BinaryExpr& b) {
  std::string s = b.lhs->ToString() + " ";
  std::string full = b.ToString();
  std::string rhs = " " + b.rhs->ToString();
  return full.substr(s.size(), full.size() - s.size() - rhs.size());
}

std::string PrettyAt(const Expr& e, int level);

std::string PrettyAggregate(const AggregateExpr& a, int level) {
  std::string s = Indent(level);
  std::string full = a.ToString();
  // The head is everything before the argument list: "sum", "sum by (a) ".
  std::string args = "(" + (a.param ? a.param->ToString() + ", " : "") + a.expr->ToString() + ")";
  s += full.substr(0, full.size() - args.size()) + "(\n";
  if (a.param) s += PrettyAt(*a.param, level + 1) + ",\n";
  s += PrettyAt(*a.expr, level + 1) + "\n" + Indent(level) + ")";
  return s;
}

std::string PrettyCall(const Call& c, int level) {
  std::string s = Indent(level) + std::string(c.func->name) + "(\n";
  for (size_t i = 0; i < c.args.size(); ++i) {
    s += PrettyAt(*c.args[i], level + 1);
    s += i + 1 < c.args.size() ? ",\n" : "\n";
  }
  return s + Indent(level) + ")";
}

std::string PrettyAt(const Expr& e, int level) {
  if (e.kind() == Kind::kStepInvariant) return PrettyAt(*e.As<StepInvariantExpr>().expr, level);
  if (e.kind() == Kind::kUnary) {
    const auto& u = e.As<UnaryExpr>();
    std::string child = PrettyAt(*u.expr, level);
    child.erase(0, child.find_first_not_of(' '));
    return Indent(level) + std::string(BinaryOpString(u.op)) + child;
  }
  // Like Prometheus, an unsplit subquery is not indented.
  if (e.kind() == Kind::kSubquery && !NeedsSplit(e)) return e.ToString();
  if (!NeedsSplit(e)) return Indent(level) + e.ToString();
  switch (e.kind()) {
    case Kind::kAggregate:
      return PrettyAggregate(e.As<AggregateExpr>(), level);
    case Kind::kBinary: {
      const auto& b = e.As<BinaryExpr>();
      return PrettyAt(*b.lhs, level + 1) + "\n" + Indent(level) + OperatorString(b) + "\n" +
             PrettyAt(*b.rhs, level + 1);
    }
    case Kind::kCall:
      return PrettyCall(e.As<Call>(), level);
    case Kind::kParen:
      return Indent(level) + "(\n" + PrettyAt(*e.As<ParenExpr>().expr, level + 1) + "\n" +
             Indent(level) + ")";
    case Kind::kSubquery: {
      const auto& sq = e.As<SubqueryExpr>();
      std::string inner = sq.expr->ToString();
      std::string suffix = e.ToString().substr(inner.size());
      return PrettyAt(*sq.expr, level) + suffix;
    }
    default:
      return Indent(level) + e.ToString();
  }
}

}  // namespace

std::string Pretty(const Expr& e) { return PrettyAt(e, 0); }

}  // namespace kiln::promql::parser
