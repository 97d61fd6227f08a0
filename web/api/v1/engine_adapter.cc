#include "web/api/v1/engine_adapter.h"

#include <chrono>

namespace kiln::web::api::v1 {

Result<QueryResult> PromqlQueryEngine::Exec(const QueryRequest& req) {
  const auto begin = std::chrono::steady_clock::now();
  promql::QueryOptions opts;
  opts.lookback_delta = req.lookback_delta_ms;
  auto query = req.interval_ms == 0
                   ? engine_->NewInstantQuery(queryable_, req.query, req.start_ms, opts)
                   : engine_->NewRangeQuery(queryable_, req.query, req.start_ms, req.end_ms,
                                            req.interval_ms, opts);
  if (!query.ok()) return query.status();
  const auto prepared = std::chrono::steady_clock::now();
  auto res = (*query)->Exec();
  if (!res.ok()) {
    const Status& s = res.status();
    if (s.Is(StatusCode::kBadData)) return Status::Execution(s.message());
    return s;
  }
  const auto done = std::chrono::steady_clock::now();
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  QueryResult out;
  out.value = std::move(res->value);
  out.warnings = res->annotations.Warnings(req.query);
  out.infos = res->annotations.Infos(req.query);
  out.stats.query_preparation = seconds(prepared - begin);
  out.stats.inner_eval = res->stats.exec_seconds;
  out.stats.eval_total = seconds(done - prepared);
  out.stats.exec_total = seconds(done - begin);
  out.stats.peak_samples = res->stats.peak_samples;
  return out;
}

}  // namespace kiln::web::api::v1
