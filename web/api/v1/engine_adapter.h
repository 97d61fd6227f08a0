// The QueryEngine seam implemented by Kiln's promql::Engine over a storage::Queryable.
// Thread-safe (the engine is; each Exec builds its own query).
#pragma once

#include "pkg/storage/querier.h"
#include "promql/engine.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

class PromqlQueryEngine final : public QueryEngine {
 public:
  // Both must outlive this object.
  PromqlQueryEngine(const promql::Engine* engine, storage::Queryable* queryable)
      : engine_(engine), queryable_(queryable) {}

  // Parse errors come back as kBadData; evaluation errors keep the engine's codes, except
  // that a kBadData raised while running becomes kExecution (it is not a bad parameter).
  // The request's timeout_ms is not applied yet: promql::Engine only has its global
  // timeout (--query.timeout), which bounds every query.
  Result<QueryResult> Exec(const QueryRequest& req) override;

 private:
  const promql::Engine* engine_;
  storage::Queryable* queryable_;
};

}  // namespace kiln::web::api::v1
