#include "web/api/v1/engine_adapter.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace kiln::web::api::v1 {

namespace {

// Sets `cancel` once `timeout_ms` pass, unless Stop() comes first; a request's `timeout`
// shorter than the engine's own. Owns one thread for the query's lifetime.
class Watchdog {
 public:
  Watchdog(int64_t timeout_ms, std::atomic<bool>* cancel)
      : thread_([this, timeout_ms, cancel] {
          std::unique_lock<std::mutex> l(mu_);
          if (!cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [this] { return done_; })) {
            fired_ = true;
            cancel->store(true);
          }
        }) {}
  ~Watchdog() { Stop(); }

  // Returns whether the timeout fired before the query finished.
  bool Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;   // guarded by mu_
  bool fired_ = false;  // guarded by mu_ until the thread is joined
  std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace

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
  std::atomic<bool> cancel{false};
  std::optional<Watchdog> watchdog;
  const int64_t engine_timeout = engine_->options().timeout.count();
  const int64_t timeout_ms =
      req.timeout_ms > 0 ? std::min<int64_t>(req.timeout_ms, engine_timeout) : engine_timeout;
  // Waiting for a slot counts against the query's timeout, as in upstream.
  std::optional<promql::QueryGate::Slot> slot;
  if (gate_ != nullptr) {
    slot = gate_->Acquire(begin + std::chrono::milliseconds(timeout_ms));
    if (!slot.has_value()) return Status::Timeout("query timed out in query queue");
  }
  if (req.timeout_ms > 0 && req.timeout_ms < engine_timeout) {
    const auto queued = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - begin)
                            .count();
    watchdog.emplace(std::max<int64_t>(1, req.timeout_ms - queued), &cancel);
  }
  auto res = (*query)->Exec(&cancel);
  const bool timed_out = watchdog.has_value() && watchdog->Stop();
  if (!res.ok()) {
    const Status& s = res.status();
    if (timed_out && s.Is(StatusCode::kCanceled)) {
      return Status::Timeout("query timed out in query execution");
    }
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
