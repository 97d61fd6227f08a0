// The QueryEngine seam implemented by Kiln's promql::Engine over a storage::Queryable.
// Thread-safe (the engine is; each Exec builds its own query).
#pragma once

#include "pkg/storage/querier.h"
#include "promql/engine.h"
#include "promql/query_gate.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

class PromqlQueryEngine final : public QueryEngine {
 public:
  // All must outlive this object. `gate` (may be null: no limit) bounds how many queries
  // evaluate at once; a query that cannot get a slot before its timeout fails with kTimeout
  // "query timed out in query queue", as upstream's.
  PromqlQueryEngine(const promql::Engine* engine, storage::Queryable* queryable,
                    promql::QueryGate* gate = nullptr)
      : engine_(engine), queryable_(queryable), gate_(gate) {}

  // Parse errors come back as kBadData; evaluation errors keep the engine's codes, except
  // that a kBadData raised while running becomes kExecution (it is not a bad parameter).
  // A request timeout_ms shorter than the engine's (--query.timeout) cancels the query
  // when it passes (kTimeout, as upstream); a longer one is capped by the engine's.
  Result<QueryResult> Exec(const QueryRequest& req) override;

 private:
  const promql::Engine* engine_;
  storage::Queryable* queryable_;
  promql::QueryGate* gate_;
};

}  // namespace kiln::web::api::v1
