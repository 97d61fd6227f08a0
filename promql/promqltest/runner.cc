#include "promql/promqltest/runner.h"

#include <algorithm>

#include <re2/re2.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "promql/parser/functions.h"
#include "promql/promqltest/compare.h"

namespace kiln::promql::promqltest {

namespace {

// Functions whose value changes with the evaluation time even under `@`.
bool AtModifierUnsafe(std::string_view name) {
  for (std::string_view n :
       {"days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month",
        "year", "predict_linear", "time", "timestamp", "start", "end", "range", "step"}) {
    if (n == name) return true;
  }
  return false;
}

// Pins every selector and subquery without `@` to `ts`, as upstream's
// atModifierTestCases does; returns false when the expression contains a function that
// makes the rewrite unsafe. Nothing below a subquery is changed.
bool PinToTime(parser::Expr& e, int64_t ts) {
  switch (e.kind()) {
    case parser::Kind::kVectorSelector: {
      auto& vs = e.As<parser::VectorSelector>();
      if (!vs.timestamp && vs.start_or_end == parser::StartOrEnd::kNone) vs.timestamp = ts;
      return true;
    }
    case parser::Kind::kSubquery: {
      auto& sq = e.As<parser::SubqueryExpr>();
      if (!sq.timestamp && sq.start_or_end == parser::StartOrEnd::kNone) sq.timestamp = ts;
      return true;
    }
    case parser::Kind::kCall:
      if (AtModifierUnsafe(e.As<parser::Call>().func->name)) return false;
      break;
    default:
      break;
  }
  bool safe = true;
  for (parser::Expr* c : parser::Children(e)) safe = PinToTime(*c, ts) && safe;
  return safe;
}

std::string HistogramBaseName(std::string_view name) {
  for (std::string_view suf : {"_bucket", "_count", "_sum"}) {
    if (name.size() > suf.size() && name.substr(name.size() - suf.size()) == suf) {
      return std::string(name.substr(0, name.size() - suf.size()));
    }
  }
  return "";
}

}  // namespace

Result<SkipList> SkipList::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open skip file " + path);
  SkipList list;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    size_t space = line.find(' ', colon);
    if (colon == std::string::npos || space == std::string::npos) continue;
    list.Add(line.substr(0, colon), std::atoi(line.substr(colon + 1, space - colon - 1).c_str()),
             line.substr(space + 1));
  }
  return list;
}

std::string SkipList::Reason(std::string_view file, int line) const {
  for (const Entry& e : entries_) {
    if (e.line == line && e.file == file) return e.reason;
  }
  return "";
}

EngineOptions TestEngineOptions() {
  EngineOptions o;
  o.max_samples = 10000;
  o.timeout = std::chrono::milliseconds(100 * 1000);
  o.lookback_delta = 5 * 60 * 1000;
  o.enable_at_modifier = true;
  o.enable_negative_offset = true;
  o.enable_delayed_name_removal = true;
  o.no_step_subquery_interval = 60 * 1000;
  o.parser_options = parser::ParserOptions::AllEnabled();
  return o;
}

Status Runner::Load(const LoadCmd& cmd) {
  // A series defined twice in one load keeps only its last definition, as upstream's
  // runner keys a load's series by their labels.
  std::vector<const SeriesDesc*> defs;
  for (const SeriesDesc& d : cmd.series) {
    auto same = std::find_if(defs.begin(), defs.end(), [&](const SeriesDesc* o) {
      return model::Labels::Compare(o->metric, d.metric) == 0;
    });
    if (same != defs.end()) {
      *same = &d;
    } else {
      defs.push_back(&d);
    }
  }
  for (const SeriesDesc* def : defs) {
    const SeriesDesc& d = *def;
    std::string name(d.metric.MetricName());
    if (d.has_histogram) {
      unsupported_.push_back({d.metric, "native histograms"});
      continue;
    }
    if (cmd.has_start_timestamps) {
      unsupported_.push_back({d.metric, "start timestamps (@st)"});
    }
    if (cmd.with_nhcb) {
      // The classic series stay; the native histogram built from them is only recorded.
      std::string base = HistogramBaseName(name);
      if (!base.empty()) {
        model::LabelsBuilder b(d.metric);
        b.Set(model::kMetricName, base);
        b.Del("le");
        unsupported_.push_back({b.Build(), "native histograms (load_with_nhcb)"});
      }
    }
    std::vector<model::Sample> samples;
    for (size_t i = 0; i < d.values.size(); ++i) {
      if (d.values[i].omitted) continue;
      samples.push_back({static_cast<int64_t>(i) * cmd.interval_ms, d.values[i].value});
    }
    if (Status st = storage_.Add(d.metric, samples); !st.ok()) return st;
  }
  return Status::OK();
}

std::string Runner::AutoSkipReason(const EvalCmd& cmd) const {
  for (const SeriesDesc& d : cmd.series) {
    if (d.has_histogram) return "expects native histogram results";
  }
  if (unsupported_.empty()) return "";
  Result<parser::ExprPtr> e = parser::ParseExpr(cmd.expr, engine_->options().parser_options);
  if (!e.ok()) return "";
  std::string reason;
  parser::Inspect(**e, [&](const parser::Expr& n, const std::vector<const parser::Expr*>&) {
    if (!reason.empty() || n.kind() != parser::Kind::kVectorSelector) return;
    for (const Unsupported& u : unsupported_) {
      if (model::MatchesAll(n.As<parser::VectorSelector>().matchers, u.labels)) {
        reason = "reads " + u.reason + ": " + u.labels.ToString();
        return;
      }
    }
  });
  return reason;
}

FileResult Runner::Run(const TestFile& file) {
  FileResult res;
  // Storage errors on load or clear are the file's failures, as upstream fails the test.
  auto check = [&](const Status& st, int line) {
    if (st.ok()) return;
    ++res.failed;
    *log_ << file.name << ":" << line << ": FAIL storage: " << st.message() << "\n";
  };
  check(storage_.Clear(), 0);
  unsupported_.clear();
  for (const Command& c : file.commands) {
    if (const auto* l = std::get_if<LoadCmd>(&c)) {
      check(Load(*l), l->line);
    } else if (const auto* cl = std::get_if<ClearCmd>(&c)) {
      check(storage_.Clear(), cl->line);
      unsupported_.clear();
    } else {
      const EvalCmd& ev = std::get<EvalCmd>(c);
      std::string reason = skips_->Reason(file.name, ev.line);
      if (reason.empty()) reason = AutoSkipReason(ev);
      if (!reason.empty()) {
        if (verbose_)
          *log_ << file.name << ":" << ev.line << ": SKIP " << ev.expr << " (" << reason << ")\n";
        ++res.skipped;
        continue;
      }
      std::string err = RunEval(ev);
      if (err.empty()) {
        ++res.passed;
      } else {
        ++res.failed;
        *log_ << file.name << ":" << ev.line << ": FAIL " << ev.expr << "\n  " << err << "\n";
      }
    }
  }
  return res;
}

std::string Runner::RunRange(const EvalCmd& cmd) {
  Result<std::unique_ptr<Query>> q =
      engine_->NewRangeQuery(&storage_, cmd.expr, cmd.start, cmd.end, cmd.step);
  if (!q.ok()) {
    if (cmd.IsFail()) return CheckFailure(cmd, q.status());
    return "error creating range query: " + q.status().message();
  }
  Result<QueryResult> r = (*q)->Exec();
  if (!r.ok()) {
    if (cmd.IsFail()) return CheckFailure(cmd, r.status());
    return "error evaluating query: " + r.status().message();
  }
  if (cmd.IsFail()) return "expected error evaluating query but got none";
  std::string err = CheckAnnotations(cmd, r->annotations, cmd.expr);
  if (err.empty()) err = CompareResult(cmd, r->value, cmd.start, cmd.end, cmd.step);
  return err;
}

std::string Runner::RunInstant(const EvalCmd& cmd, parser::ExprPtr expr, int64_t ts) {
  parser::ExprPtr range_expr = parser::CloneExpr(*expr);
  Result<std::unique_ptr<Query>> q =
      engine_->NewQueryFromExpr(&storage_, std::move(expr), cmd.expr, ts, ts, 0);
  Result<QueryResult> r = q.ok() ? (*q)->Exec() : Result<QueryResult>(q.status());
  if (!r.ok()) {
    if (cmd.IsFail()) return CheckFailure(cmd, r.status());
    return "error evaluating query at " + std::to_string(ts) + ": " + r.status().message();
  }
  if (cmd.IsFail()) return "expected error evaluating query but got none";
  std::string err = CheckAnnotations(cmd, r->annotations, cmd.expr);
  if (err.empty()) err = CompareResult(cmd, r->value, cmd.start, cmd.end, cmd.step);
  if (!err.empty()) return err + "\n  got: " + DescribeValue(r->value);
  static const re2::RE2 kContextFuncs(R"((start|end|range|step)\(\))");
  if (cmd.exclude_from_range_query || cmd.ordered ||
      re2::RE2::PartialMatch(cmd.expr, kContextFuncs)) {
    return "";
  }
  // The same query as a range query must agree at the instant's step.
  Result<std::unique_ptr<Query>> rq = engine_->NewQueryFromExpr(
      &storage_, std::move(range_expr), cmd.expr, ts - 60000, ts + 60000, 60000);
  Result<QueryResult> rr = rq.ok() ? (*rq)->Exec() : Result<QueryResult>(rq.status());
  if (!rr.ok()) return "error evaluating query in range mode: " + rr.status().message();
  const Matrix* m = std::get_if<Matrix>(&rr->value);
  if (m == nullptr) return "range mode did not return a matrix";
  Vector vec;
  for (const Series& s : *m) {
    for (const FPoint& p : s.floats) {
      if (p.t == ts) vec.push_back(Sample{s.metric, p.t, p.f});
    }
  }
  Value v = vec;
  if (KindOf(r->value) == ValueKind::kScalar) {
    v = Scalar{ts, vec.empty() ? 0 : vec[0].f};
  }
  err = CompareResult(cmd, v, cmd.start, cmd.end, cmd.step);
  if (!err.empty()) return "range mode: " + err + "\n  got: " + DescribeValue(v);
  return "";
}

std::string Runner::RunEval(const EvalCmd& cmd) {
  if (cmd.is_range) return RunRange(cmd);
  Result<parser::ExprPtr> parsed = parser::ParseExpr(cmd.expr, engine_->options().parser_options);
  if (!parsed.ok()) {
    if (cmd.IsFail()) return CheckFailure(cmd, parsed.status());
    return "parse error: " + parsed.status().message();
  }
  int64_t ts = cmd.end;
  std::string err = RunInstant(cmd, parser::CloneExpr(**parsed), ts);
  if (!err.empty()) return err;
  std::vector<int64_t> times = {-10 * ts, 0, ts / 5, ts, 10 * ts};
  if (ts == 0) times = {-1000, 0, 1000};
  parser::ExprPtr pinned = parser::CloneExpr(**parsed);
  if (!PinToTime(*pinned, ts)) return "";
  for (int64_t t : times) {
    err = RunInstant(cmd, parser::CloneExpr(*pinned), t);
    if (!err.empty())
      return "with @ " + std::to_string(ts) + " at t=" + std::to_string(t) + ": " + err;
  }
  return "";
}

}  // namespace kiln::promql::promqltest
