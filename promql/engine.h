// The PromQL engine: parses a query, evaluates it against a storage::Queryable and returns
// the value with its annotations and statistics.
//
// Usage:
//   Engine engine(EngineOptions{});
//   auto q = engine.NewRangeQuery(&storage, "rate(x[5m])", start_ms, end_ms, step_ms);
//   if (q.ok()) { auto res = (*q)->Exec(); … }
//
// Errors are Status codes: kBadData (parse errors, invalid query parameters), kExecution
// (evaluation errors), kTimeout, kCanceled, kLimitExceeded (too many samples).
// Thread-safety: Engine is thread-safe (immutable options); a Query is used by one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/util/result.h"
#include "promql/annotations.h"
#include "promql/parser/ast.h"
#include "promql/parser/parser.h"
#include "promql/value.h"

namespace kiln::promql {

struct EngineOptions {
  int64_t max_samples = 50000000;
  std::chrono::milliseconds timeout{2 * 60 * 1000};
  int64_t lookback_delta = 5 * 60 * 1000;  // ms
  bool enable_at_modifier = true;
  bool enable_negative_offset = true;
  // "promql-delayed-name-removal": __name__ is dropped at the end of evaluation.
  bool enable_delayed_name_removal = false;
  // Step of subqueries written without one (`x[5m:]`); Prometheus uses the global
  // evaluation interval.
  int64_t no_step_subquery_interval = 60 * 1000;
  parser::ParserOptions parser_options;
};

struct QueryOptions {
  int64_t lookback_delta = 0;  // ms; 0 = the engine's
};

struct QueryStats {
  int64_t peak_samples = 0;
  double exec_seconds = 0;
};

struct QueryResult {
  Value value;
  Annotations annotations;
  QueryStats stats;
};

class Query {
 public:
  // Runs the query; `cancel`, when given, is polled and stops evaluation once true.
  Result<QueryResult> Exec(const std::atomic<bool>* cancel = nullptr);
  const std::string& query_string() const { return query_; }
  const parser::Expr& expr() const { return *expr_; }

 private:
  friend class Engine;
  Query() = default;
  storage::Queryable* queryable_ = nullptr;
  std::string query_;
  parser::ExprPtr expr_;
  int64_t start_ = 0;
  int64_t end_ = 0;
  int64_t step_ = 0;  // 0 for instant queries
  EngineOptions opts_;
  int64_t lookback_delta_ = 0;
};

class Engine {
 public:
  explicit Engine(EngineOptions opts) : opts_(std::move(opts)) {}

  Result<std::unique_ptr<Query>> NewInstantQuery(storage::Queryable* q, std::string_view expr,
                                                 int64_t ts, const QueryOptions& opts = {}) const;
  Result<std::unique_ptr<Query>> NewRangeQuery(storage::Queryable* q, std::string_view expr,
                                               int64_t start, int64_t end, int64_t step,
                                               const QueryOptions& opts = {}) const;
  // Runs an already parsed tree (e.g. one rewritten by a caller). `text` is used to place
  // annotation positions. `step` 0 means an instant query at `start`.
  Result<std::unique_ptr<Query>> NewQueryFromExpr(storage::Queryable* q, parser::ExprPtr expr,
                                                  std::string_view text, int64_t start, int64_t end,
                                                  int64_t step,
                                                  const QueryOptions& opts = {}) const;

  const EngineOptions& options() const { return opts_; }

 private:
  EngineOptions opts_;
};

}  // namespace kiln::promql
