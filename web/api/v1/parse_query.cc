// /api/v1/parse_query: the PromQL tree as the JSON the Prometheus UI's tree view reads
// (web/api/v1/translate_ast.go upstream). Upstream marshals Go maps, so each object's keys
// appear in sorted order; the writers below keep that order by hand.
#include "pkg/util/float_format.h"
#include "promql/parser/functions.h"
#include "promql/parser/parser.h"
#include "web/api/v1/api.h"
#include "web/api/v1/params.h"

namespace kiln::web::api::v1 {

namespace {

using promql::parser::Expr;
using promql::parser::Kind;
namespace ps = promql::parser;

void WriteAst(JsonWriter& w, const Expr* e);

void WriteStringList(JsonWriter& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

void WriteMatchers(JsonWriter& w, const std::vector<model::Matcher>& ms) {
  w.BeginArray();
  for (const auto& m : ms) {
    w.BeginObject().Key("name").String(m.name());
    w.Key("type").String(model::MatchTypeString(m.type())).Key("value").String(m.value());
    w.EndObject();
  }
  w.EndArray();
}

void WriteTimestampField(JsonWriter& w, const std::optional<int64_t>& ts) {
  w.Key("timestamp");
  ts ? w.Int(*ts) : w.Null();
}

void WriteStartOrEnd(JsonWriter& w, ps::StartOrEnd s) {
  w.Key("startOrEnd");
  if (s == ps::StartOrEnd::kNone) {
    w.Null();
  } else {
    w.String(s == ps::StartOrEnd::kStart ? "start" : "end");
  }
}

void WriteOptionalNumber(JsonWriter& w, const std::optional<double>& v) {
  v ? w.Number(*v) : w.Null();
}

void WriteBinary(JsonWriter& w, const ps::BinaryExpr& b) {
  w.BeginObject().Key("bool").Bool(b.return_bool).Key("lhs");
  WriteAst(w, b.lhs.get());
  w.Key("matching");
  if (b.matching) {
    const auto& m = *b.matching;
    w.BeginObject().Key("card").String(ps::CardinalityString(m.card));
    w.Key("fillValues").BeginObject().Key("lhs");
    WriteOptionalNumber(w, m.fill_lhs);
    w.Key("rhs");
    WriteOptionalNumber(w, m.fill_rhs);
    w.EndObject().Key("include");
    WriteStringList(w, m.include);
    w.Key("labels");
    WriteStringList(w, m.matching_labels);
    w.Key("on").Bool(m.on).EndObject();
  } else {
    w.Null();
  }
  w.Key("op").String(ps::BinaryOpString(b.op)).Key("rhs");
  WriteAst(w, b.rhs.get());
  w.Key("type").String("binaryExpr").EndObject();
}

void WriteCall(JsonWriter& w, const ps::Call& c) {
  w.BeginObject().Key("args").BeginArray();
  for (const auto& a : c.args) WriteAst(w, a.get());
  w.EndArray().Key("func").BeginObject().Key("argTypes").BeginArray();
  for (auto t : c.func->arg_types) w.String(ps::ValueTypeName(t));
  w.EndArray().Key("name").String(c.func->name);
  w.Key("returnType").String(ps::ValueTypeName(c.func->return_type));
  w.Key("variadic").Int(c.func->variadic).EndObject();
  w.Key("type").String("call").EndObject();
}

void WriteSelector(JsonWriter& w, const ps::VectorSelector& vs, const int64_t* range) {
  w.BeginObject().Key("anchored").Bool(vs.anchored).Key("matchers");
  WriteMatchers(w, vs.matchers);
  w.Key("name").String(vs.name).Key("offset").Int(vs.original_offset);
  if (range != nullptr) w.Key("range").Int(*range);
  w.Key("smoothed").Bool(vs.smoothed);
  WriteStartOrEnd(w, vs.start_or_end);
  WriteTimestampField(w, vs.timestamp);
  w.Key("type").String(range != nullptr ? "matrixSelector" : "vectorSelector").EndObject();
}

void WriteSubquery(JsonWriter& w, const ps::SubqueryExpr& s) {
  // Kiln has no step-aligned subquery variant, so alignEvalTime is always false.
  w.BeginObject().Key("alignEvalTime").Bool(false).Key("expr");
  WriteAst(w, s.expr.get());
  w.Key("offset").Int(s.original_offset).Key("range").Int(s.range);
  WriteStartOrEnd(w, s.start_or_end);
  w.Key("step").Int(s.step);
  WriteTimestampField(w, s.timestamp);
  w.Key("type").String("subquery").EndObject();
}

void WriteAst(JsonWriter& w, const Expr* e) {
  if (e == nullptr) {
    w.Null();
    return;
  }
  switch (e->kind()) {
    case Kind::kAggregate: {
      const auto& a = e->As<ps::AggregateExpr>();
      w.BeginObject().Key("expr");
      WriteAst(w, a.expr.get());
      w.Key("grouping");
      WriteStringList(w, a.grouping);
      w.Key("op").String(ps::AggregateOpString(a.op)).Key("param");
      WriteAst(w, a.param.get());
      w.Key("type").String("aggregation").Key("without").Bool(a.without).EndObject();
      return;
    }
    case Kind::kBinary:
      return WriteBinary(w, e->As<ps::BinaryExpr>());
    case Kind::kCall:
      return WriteCall(w, e->As<ps::Call>());
    case Kind::kMatrixSelector: {
      const auto& m = e->As<ps::MatrixSelector>();
      return WriteSelector(w, m.vs(), &m.range);
    }
    case Kind::kVectorSelector:
      return WriteSelector(w, e->As<ps::VectorSelector>(), nullptr);
    case Kind::kSubquery:
      return WriteSubquery(w, e->As<ps::SubqueryExpr>());
    case Kind::kNumberLiteral:
      w.BeginObject().Key("type").String("numberLiteral");
      w.Key("val").String(FormatFloatF(e->As<ps::NumberLiteral>().val)).EndObject();
      return;
    case Kind::kStringLiteral:
      w.BeginObject().Key("type").String("stringLiteral");
      w.Key("val").String(e->As<ps::StringLiteral>().val).EndObject();
      return;
    case Kind::kParen:
      w.BeginObject().Key("expr");
      WriteAst(w, e->As<ps::ParenExpr>().expr.get());
      w.Key("type").String("parenExpr").EndObject();
      return;
    case Kind::kUnary: {
      const auto& u = e->As<ps::UnaryExpr>();
      w.BeginObject().Key("expr");
      WriteAst(w, u.expr.get());
      w.Key("op").String(ps::BinaryOpString(u.op)).Key("type").String("unaryExpr").EndObject();
      return;
    }
    case Kind::kStepInvariant:
      return WriteAst(w, e->As<ps::StepInvariantExpr>().expr.get());
    case Kind::kDuration:
      // Duration expressions (an experimental feature) have no tree-view form upstream.
      w.Null();
      return;
  }
}

}  // namespace

ApiResult Api::ParseQuery(const ApiRequest& r) const {
  auto expr = promql::parser::ParseExpr(r.FormValue("query"));
  if (!expr.ok()) return ApiResult::Error(InvalidParam("query", expr.status()));
  ApiResult res;
  res.data = [e = std::shared_ptr<const Expr>(std::move(*expr))](JsonWriter& w) {
    WriteAst(w, e.get());
  };
  return res;
}

}  // namespace kiln::web::api::v1
