// Query endpoints: query, query_range, query_exemplars, format_query.
#include "promql/parser/parser.h"
#include "promql/parser/printer.h"
#include "web/api/v1/api.h"
#include "web/api/v1/encode.h"
#include "web/api/v1/params.h"

namespace kiln::web::api::v1 {

namespace {

constexpr int64_t kMaxPointsPerSeries = 11000;
constexpr int64_t kNsPerMs = 1000000;

// timeout, lookback_delta and stats, shared by query and query_range (after their time
// parameters, as upstream parses them).
Status ParseQueryOptions(const ApiRequest& r, QueryRequest* q) {
  if (const std::string to = r.FormValue("timeout"); !to.empty()) {
    auto ns = ParseDurationNs(to);
    if (!ns.ok()) return InvalidParam("timeout", ns.status());
    q->timeout_ms = *ns / kNsPerMs;
  }
  if (const std::string lb = r.FormValue("lookback_delta"); !lb.empty()) {
    auto ns = ParseDurationNs(lb);
    if (!ns.ok()) {
      return Status::BadData("error parsing lookback delta duration: " + ns.status().message());
    }
    q->lookback_delta_ms = *ns / kNsPerMs;
  }
  q->per_step_stats = r.FormValue("stats") == "all";
  return Status::OK();
}

// Cuts a vector or matrix to `limit` series, as upstream's `limit` does.
bool Truncate(promql::Value* v, int64_t limit) {
  if (limit <= 0) return false;
  const auto n = static_cast<size_t>(limit);
  if (auto* vec = std::get_if<promql::Vector>(v); vec != nullptr && vec->size() > n) {
    vec->resize(n);
    return true;
  }
  if (auto* m = std::get_if<promql::Matrix>(v); m != nullptr && m->size() > n) {
    m->resize(n);
    return true;
  }
  return false;
}

bool HasSelector(const promql::parser::Expr& e) {
  if (e.kind() == promql::parser::Kind::kVectorSelector) return true;
  for (const auto* c : promql::parser::Children(e)) {
    if (HasSelector(*c)) return true;
  }
  return false;
}

}  // namespace

ApiResult Api::RunQuery(QueryRequest q, int64_t limit, const ApiRequest& r) const {
  if (Status s = ParseQueryOptions(r, &q); !s.ok()) return ApiResult::Error(s);
  if (deps_.engine == nullptr) {
    return ApiResult::Error(Status::Unavailable("query engine not available"));
  }
  q.query = r.FormValue("query");
  auto res = deps_.engine->Exec(q);
  if (!res.ok()) {
    const Status& s = res.status();
    return ApiResult::Error(s.Is(StatusCode::kBadData) ? InvalidParam("query", s) : s);
  }
  ApiResult out;
  out.warnings = std::move(res->warnings);
  out.infos = std::move(res->infos);
  if (Truncate(&res->value, limit)) out.warnings.push_back("results truncated due to limit");
  const bool stats = !r.FormValue("stats").empty();
  out.data = [res = std::move(*res), stats, per_step = q.per_step_stats](JsonWriter& w) {
    w.BeginObject().Key("resultType").String(ResultTypeName(res.value)).Key("result");
    WriteResult(w, res.value);
    if (stats) {
      w.Key("stats");
      WriteQueryStats(w, res.stats, per_step);
    }
    w.EndObject();
  };
  return out;
}

ApiResult Api::Query(const ApiRequest& r) const {
  auto limit = ParseLimit(r.FormValue("limit"));
  if (!limit.ok()) return ApiResult::Error(InvalidParam("limit", limit.status()));
  auto ts = ParseTimeParam(r, "time", NowMs());
  if (!ts.ok()) return ApiResult::Error(ts.status());
  QueryRequest q;
  q.start_ms = q.end_ms = *ts;
  return RunQuery(std::move(q), *limit, r);
}

ApiResult Api::QueryRange(const ApiRequest& r) const {
  auto limit = ParseLimit(r.FormValue("limit"));
  if (!limit.ok()) return ApiResult::Error(InvalidParam("limit", limit.status()));
  auto start = ParseTime(r.FormValue("start"));
  if (!start.ok()) return ApiResult::Error(InvalidParam("start", start.status()));
  auto end = ParseTime(r.FormValue("end"));
  if (!end.ok()) return ApiResult::Error(InvalidParam("end", end.status()));
  if (*end < *start) {
    return ApiResult::Error(InvalidParam("end", "end timestamp must not be before start time"));
  }
  auto step = ParseDurationNs(r.FormValue("step"));
  if (!step.ok()) return ApiResult::Error(InvalidParam("step", step.status()));
  // The engine steps in whole milliseconds; a step below 1ms would be a zero step there.
  if (*step < kNsPerMs) {
    return ApiResult::Error(InvalidParam(
        "step",
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer"));
  }
  // Upstream divides time.Durations: (end-start) in ns by the step in ns.
  const __int128 range_ns = static_cast<__int128>(*end - *start) * kNsPerMs;
  if (range_ns / *step > kMaxPointsPerSeries) {
    return ApiResult::Error(Status::BadData(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)"));
  }
  QueryRequest q;
  q.start_ms = *start;
  q.end_ms = *end;
  q.interval_ms = *step / kNsPerMs;
  return RunQuery(std::move(q), *limit, r);
}

ApiResult Api::QueryExemplars(const ApiRequest& r) const {
  auto start = ParseTimeParam(r, "start", kApiMinTimeMs);
  if (!start.ok()) return ApiResult::Error(start.status());
  auto end = ParseTimeParam(r, "end", kApiMaxTimeMs);
  if (!end.ok()) return ApiResult::Error(end.status());
  if (*end < *start) {
    // Upstream's wording differs from query_range's here.
    return ApiResult::Error(Status::BadData("end timestamp must not be before start timestamp"));
  }
  auto expr = promql::parser::ParseExpr(r.FormValue("query"));
  if (!expr.ok()) return ApiResult::Error(expr.status());
  ApiResult res;
  if (!HasSelector(**expr)) {
    res.no_content = true;  // upstream answers a nil result with 204
    return res;
  }
  if (deps_.query_exemplars) return deps_.query_exemplars(r);
  // No exemplar storage yet: the empty answer Grafana's availability probe expects.
  res.data = [](JsonWriter& w) { w.BeginArray().EndArray(); };
  return res;
}

ApiResult Api::FormatQuery(const ApiRequest& r) const {
  auto expr = promql::parser::ParseExpr(r.FormValue("query"));
  if (!expr.ok()) return ApiResult::Error(InvalidParam("query", expr.status()));
  ApiResult res;
  res.data = [text = promql::parser::Pretty(**expr)](JsonWriter& w) { w.String(text); };
  return res;
}

}  // namespace kiln::web::api::v1
