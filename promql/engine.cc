#include "promql/engine.h"

#include <algorithm>
#include <map>

#include "promql/evaluator.h"
#include "promql/parser/preprocess.h"

namespace kiln::promql {

namespace {

Status CheckFeatures(const parser::Expr& e, const EngineOptions& o) {
  Status st;
  parser::Inspect(e, [&](const parser::Expr& n, const std::vector<const parser::Expr*>&) {
    if (!st.ok()) return;
    const parser::VectorSelector* vs = nullptr;
    if (n.kind() == parser::Kind::kVectorSelector) vs = &n.As<parser::VectorSelector>();
    bool has_at = false;
    int64_t off = 0;
    if (vs != nullptr) {
      has_at = vs->timestamp.has_value() || vs->start_or_end != parser::StartOrEnd::kNone;
      off = vs->original_offset;
    } else if (n.kind() == parser::Kind::kSubquery) {
      const auto& sq = n.As<parser::SubqueryExpr>();
      has_at = sq.timestamp.has_value() || sq.start_or_end != parser::StartOrEnd::kNone;
      off = sq.original_offset;
    }
    if (has_at && !o.enable_at_modifier) st = Status::BadData("@ modifier is disabled");
    if (off < 0 && !o.enable_negative_offset) st = Status::BadData("negative offset is disabled");
  });
  return st;
}

// Applies delayed __name__ removal and rejects results with equal label sets; series of a
// range result that became equal are merged when they do not overlap in time.
void CleanupVector(Vector* v, bool delayed) {
  if (delayed) {
    for (Sample& s : *v) {
      if (s.drop_name) s.metric = s.metric.Without(kNameAndMetadataLabels);
      s.drop_name = false;
    }
  }
  if (HasDuplicateLabelset(*v))
    ThrowExecution("vector cannot contain metrics with the same labelset");
}

void CleanupMatrix(Matrix* m, bool delayed) {
  if (!delayed) return;
  std::map<std::string, size_t> index;
  Matrix out;
  for (Series& s : *m) {
    if (s.drop_name) s.metric = s.metric.Without(kNameAndMetadataLabels);
    s.drop_name = false;
    auto [it, inserted] = index.try_emplace(s.metric.data(), out.size());
    if (inserted) {
      out.push_back(std::move(s));
      continue;
    }
    Series& dst = out[it->second];
    std::vector<FPoint> merged;
    std::merge(dst.floats.begin(), dst.floats.end(), s.floats.begin(), s.floats.end(),
               std::back_inserter(merged),
               [](const FPoint& a, const FPoint& b) { return a.t < b.t; });
    for (size_t i = 1; i < merged.size(); ++i) {
      if (merged[i].t == merged[i - 1].t) {
        ThrowExecution("vector cannot contain metrics with the same labelset");
      }
    }
    dst.floats = std::move(merged);
  }
  *m = std::move(out);
}

Value ToResult(Matrix m, const parser::Expr& e, int64_t start, bool instant, bool delayed) {
  parser::ValueType type = e.Type();
  if (type == parser::ValueType::kScalar) {
    if (instant) {
      double v = m.empty() || m[0].floats.empty() ? 0 : m[0].floats[0].f;
      return Scalar{start, v};
    }
    return m;
  }
  if (type == parser::ValueType::kVector && instant) {
    Vector v;
    for (Series& s : m) {
      if (s.floats.empty()) continue;
      v.push_back(Sample{std::move(s.metric), s.floats[0].t, s.floats[0].f, nullptr, s.drop_name});
    }
    CleanupVector(&v, delayed);
    return v;
  }
  CleanupMatrix(&m, delayed);
  if (!instant || type == parser::ValueType::kMatrix) SortMatrix(&m);
  return m;
}

}  // namespace

Result<std::unique_ptr<Query>> Engine::NewInstantQuery(storage::Queryable* q, std::string_view expr,
                                                       int64_t ts, const QueryOptions& opts) const {
  KILN_ASSIGN_OR_RETURN(parser::ExprPtr e, parser::ParseExpr(expr, opts_.parser_options));
  return NewQueryFromExpr(q, std::move(e), expr, ts, ts, 0, opts);
}

Result<std::unique_ptr<Query>> Engine::NewRangeQuery(storage::Queryable* q, std::string_view expr,
                                                     int64_t start, int64_t end, int64_t step,
                                                     const QueryOptions& opts) const {
  KILN_ASSIGN_OR_RETURN(parser::ExprPtr e, parser::ParseExpr(expr, opts_.parser_options));
  if (step <= 0) {
    return Status::BadData(
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer");
  }
  if (e->Type() != parser::ValueType::kScalar && e->Type() != parser::ValueType::kVector) {
    return Status::BadData("invalid expression type \"" +
                           std::string(parser::DocumentedType(e->Type())) +
                           "\" for range query, must be Scalar or instant Vector");
  }
  return NewQueryFromExpr(q, std::move(e), expr, start, end, step, opts);
}

Result<std::unique_ptr<Query>> Engine::NewQueryFromExpr(storage::Queryable* q, parser::ExprPtr expr,
                                                        std::string_view text, int64_t start,
                                                        int64_t end, int64_t step,
                                                        const QueryOptions& opts) const {
  KILN_RETURN_IF_ERROR(CheckFeatures(*expr, opts_));
  if (end < start) return Status::BadData("end timestamp must not be before start time");
  std::unique_ptr<Query> query(new Query());
  query->queryable_ = q;
  query->query_ = std::string(text);
  query->start_ = start;
  query->end_ = end;
  query->step_ = step;
  query->opts_ = opts_;
  query->lookback_delta_ = opts.lookback_delta > 0 ? opts.lookback_delta : opts_.lookback_delta;
  KILN_ASSIGN_OR_RETURN(query->expr_, parser::PreprocessExpr(std::move(expr), start, end, step));
  return query;
}

Result<QueryResult> Query::Exec(const std::atomic<bool>* cancel) {
  auto begin = std::chrono::steady_clock::now();
  EvalSettings settings;
  settings.queryable = queryable_;
  settings.lookback_delta = lookback_delta_;
  settings.max_samples = opts_.max_samples;
  settings.no_step_subquery_interval = opts_.no_step_subquery_interval;
  settings.delayed_name_removal = opts_.enable_delayed_name_removal;
  settings.deadline = begin + opts_.timeout;
  settings.cancel = cancel;
  settings.query_start = start_;
  settings.query_end = end_;
  settings.query_step = step_;
  bool instant = step_ == 0;
  Evaluator ev(settings, start_, end_, instant ? 1 : step_);
  QueryResult res;
  try {
    Value v = ev.Eval(*expr_);
    if (auto* m = std::get_if<Matrix>(&v)) {
      res.value =
          ToResult(std::move(*m), *expr_, start_, instant, opts_.enable_delayed_name_removal);
    } else {
      res.value = std::move(v);
    }
  } catch (const EvalError& err) {
    return err.status;
  }
  res.annotations = std::move(ev.annotations());
  res.stats.peak_samples = ev.cur_samples();
  res.stats.exec_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return res;
}

}  // namespace kiln::promql
