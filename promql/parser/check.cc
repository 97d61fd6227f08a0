// Type checking after parsing; the rules and messages follow Prometheus's checkAST.
#include "promql/parser/check.h"

#include <algorithm>

#include "pkg/model/labels.h"
#include "promql/parser/functions.h"

namespace kiln::promql::parser {
namespace {

[[noreturn]] void Fail(PositionRange pos, std::string msg) {
  throw ParseError{pos, std::move(msg)};
}

std::string Quote(std::string_view s) {
  std::string q;
  model::AppendGoQuoted(&q, s);
  return q;
}

class Checker {
 public:
  explicit Checker(const ParserOptions& options) : options_(options) {}

  ValueType Check(Expr& e) {
    switch (e.kind()) {
      case Kind::kAggregate:
        return CheckAggregate(e.As<AggregateExpr>());
      case Kind::kBinary:
        return CheckBinary(e.As<BinaryExpr>());
      case Kind::kCall:
        return CheckCall(e.As<Call>());
      case Kind::kMatrixSelector:
        Check(*e.As<MatrixSelector>().vector_selector);
        return ValueType::kMatrix;
      case Kind::kParen:
        return Check(*e.As<ParenExpr>().expr);
      case Kind::kStepInvariant:
        return Check(*e.As<StepInvariantExpr>().expr);
      case Kind::kSubquery: {
        auto& s = e.As<SubqueryExpr>();
        ValueType t = Check(*s.expr);
        if (t != ValueType::kVector) {
          Fail(s.PositionRange(), "subquery is only allowed on instant vector, got " +
                                      std::string(ValueTypeName(t)) + " instead");
        }
        return ValueType::kMatrix;
      }
      case Kind::kUnary: {
        auto& u = e.As<UnaryExpr>();
        ValueType t = Check(*u.expr);
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          Fail(u.PositionRange(),
               "unary expression only allowed on expressions of type scalar or instant vector, "
               "got " +
                   Quote(DocumentedType(t)));
        }
        return t;
      }
      case Kind::kVectorSelector:
        CheckVectorSelector(e.As<VectorSelector>());
        return ValueType::kVector;
      case Kind::kDuration:
      case Kind::kNumberLiteral:
      case Kind::kStringLiteral:
        return e.Type();
    }
    return e.Type();
  }

 private:
  void ExpectType(Expr& e, ValueType want, std::string_view context) {
    ValueType got = Check(e);
    if (got != want) {
      Fail(e.PositionRange(), "expected type " + std::string(DocumentedType(want)) + " in " +
                                  std::string(context) + ", got " +
                                  std::string(DocumentedType(got)));
    }
  }

  ValueType CheckAggregate(AggregateExpr& a) {
    ExpectType(*a.expr, ValueType::kVector, "aggregation expression");
    if (a.param) {
      ValueType want = a.op == AggregateOp::kCountValues ? ValueType::kString : ValueType::kScalar;
      ExpectType(*a.param, want, "aggregation parameter");
    }
    return ValueType::kVector;
  }

  ValueType CheckBinary(BinaryExpr& b) {
    ValueType lt = Check(*b.lhs);
    ValueType rt = Check(*b.rhs);
    PositionRange op_range{b.op_pos, b.rhs->PositionRange().start};
    if (b.return_bool && !IsComparisonOp(b.op)) {
      Fail(op_range, "bool modifier can only be used on comparison operators");
    }
    if (IsComparisonOp(b.op) && !b.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      Fail(op_range, "comparisons between scalars must use BOOL modifier");
    }
    VectorMatching& m = *b.matching;
    if (IsSetOp(b.op) && m.card == VectorMatchCardinality::kOneToOne) {
      m.card = VectorMatchCardinality::kManyToMany;
    }
    if (m.on) {
      for (const auto& l : m.matching_labels) {
        if (std::find(m.include.begin(), m.include.end(), l) != m.include.end()) {
          Fail(op_range, "label " + Quote(l) + " must not occur in ON and GROUP clause at once");
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      Fail(b.lhs->PositionRange(),
           "binary expression must contain only scalar and instant vector types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      Fail(b.rhs->PositionRange(),
           "binary expression must contain only scalar and instant vector types");
    }
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!m.matching_labels.empty() || m.on) {
        Fail(b.PositionRange(), "vector matching only allowed between instant vectors");
      }
      if (m.fill_lhs || m.fill_rhs) {
        Fail(b.PositionRange(), "filling in missing series only allowed between instant vectors");
      }
      b.matching.reset();
    } else if (IsSetOp(b.op)) {
      if (m.card == VectorMatchCardinality::kOneToMany ||
          m.card == VectorMatchCardinality::kManyToOne) {
        Fail(b.PositionRange(),
             "no grouping allowed for \"" + std::string(BinaryOpString(b.op)) + "\" operation");
      }
      if (m.fill_lhs || m.fill_rhs) {
        Fail(b.PositionRange(), "filling in missing series not allowed for set operators");
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOp(b.op)) {
      Fail(b.PositionRange(), "set operator \"" + std::string(BinaryOpString(b.op)) +
                                  "\" not allowed in binary scalar expression");
    }
    return b.Type();
  }

  ValueType CheckCall(Call& c) {
    const Function& f = *c.func;
    const int nargs = static_cast<int>(f.arg_types.size());
    const int got = static_cast<int>(c.args.size());
    const std::string name = Quote(f.name);
    if (f.variadic == 0) {
      if (nargs != got) {
        Fail(c.pos, "expected " + std::to_string(nargs) + " argument(s) in call to " + name +
                        ", got " + std::to_string(got));
      }
    } else {
      int min = nargs - 1;
      if (min > got) {
        Fail(c.pos, "expected at least " + std::to_string(min) + " argument(s) in call to " + name +
                        ", got " + std::to_string(got));
      }
      int max = min + f.variadic;
      if (f.variadic > 0 && max < got) {
        Fail(c.pos, "expected at most " + std::to_string(max) + " argument(s) in call to " + name +
                        ", got " + std::to_string(got));
      }
    }
    if (f.name == "info" && got > 1) CheckInfoSelector(c);
    const std::string context = "call to function " + name;
    for (int i = 0; i < got; ++i) {
      int t = std::min(i, nargs - 1);
      ExpectType(*c.args[i], f.arg_types[t], context);
    }
    return f.return_type;
  }

  // info()'s second argument selects info series by labels only.
  void CheckInfoSelector(Call& c) {
    Expr& arg = *c.args[1];
    if (arg.Type() != ValueType::kVector) {
      Fail(c.pos, "expected type instant vector in call to function \"info\", got " +
                      std::string(DocumentedType(arg.Type())));
    }
    if (arg.kind() != Kind::kVectorSelector) {
      Fail(arg.PositionRange(), "expected label selectors only");
    }
    auto& vs = arg.As<VectorSelector>();
    if (!vs.name.empty()) {
      Fail(arg.PositionRange(), "expected label selectors only, got vector selector instead");
    }
    vs.bypass_empty_matcher_check = true;
  }

  void CheckVectorSelector(VectorSelector& vs) {
    if (!vs.name.empty()) {
      // The last matcher is the one for the name outside the braces.
      for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
        const model::Matcher& m = vs.matchers[i];
        if (m.name() == model::kMetricName) {
          Fail(vs.pos,
               "metric name must not be set twice: " + Quote(vs.name) + " or " + Quote(m.value()));
        }
      }
    }
    if (vs.bypass_empty_matcher_check) return;
    bool non_empty = std::any_of(vs.matchers.begin(), vs.matchers.end(),
                                 [](const model::Matcher& m) { return !m.Matches(""); });
    if (!non_empty) Fail(vs.pos, "vector selector must contain at least one non-empty matcher");
  }

  const ParserOptions& options_;
};

}  // namespace

ValueType CheckAST(Expr& e, const ParserOptions& options) { return Checker(options).Check(e); }

}  // namespace kiln::promql::parser
