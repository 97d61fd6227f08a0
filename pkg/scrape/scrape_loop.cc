#include "pkg/scrape/scrape_loop.h"

#include <unordered_set>

#include "pkg/model/value.h"

namespace kiln::scrape {
namespace {

constexpr const char* kReportNames[5] = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                         "scrape_samples_post_metric_relabeling",
                                         "scrape_series_added"};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Report and stale appends tolerate the ordinary per-sample rejections.
bool Ignorable(const Status& s) {
  return s.Is(StatusCode::kOutOfOrder) || s.Is(StatusCode::kDuplicateSample) ||
         s.Is(StatusCode::kOutOfBounds) || s.Is(StatusCode::kTooOld);
}

}  // namespace

ScrapeLoop::ScrapeLoop(std::shared_ptr<Target> target,
                       std::shared_ptr<const config::ScrapeConfig> cfg,
                       storage::Appendable* appendable, ScrapeMetrics* metrics,
                       uint64_t offset_seed, Logger logger)
    : target_(std::move(target)),
      cfg_(std::move(cfg)),
      appendable_(appendable),
      metrics_(metrics),
      offset_seed_(offset_seed),
      logger_(std::move(logger)),
      scraper_(
          *target_, *cfg_,
          config::ScrapeAcceptHeader(cfg_->scrape_protocols, cfg_->metric_name_escaping_scheme)) {
  for (int i = 0; i < 5; ++i) {
    model::LabelsBuilder b(target_->labels());
    b.Set(model::kMetricName, kReportNames[i]);
    report_[i].labels = b.Build();
  }
}

ScrapeLoop::~ScrapeLoop() { Stop(false); }

void ScrapeLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ScrapeLoop::TakeOver(ScrapeLoop* old, bool reuse_cache) {
  if (!reuse_cache) {
    inherited_.reserve(old->prev_.size());
    for (const ScrapeCache::Entry* e : old->prev_) inherited_.push_back({e->slot.ref, e->labels});
    return;
  }
  // Moving the cache keeps its entries in place, so prev_'s pointers stay valid.
  cache_ = std::move(old->cache_);
  prev_ = std::move(old->prev_);
  old->prev_.clear();
  for (int i = 0; i < 5; ++i) report_[i].ref = old->report_[i].ref;
  reported_ = old->reported_;
  inherited_ = std::move(old->inherited_);
  // The new target object would otherwise show no metadata until the page's metadata changes.
  target_->SetMetadata(old->target_->metadata());
}

void ScrapeLoop::Stop(bool write_stale_markers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (write_stale_markers) MarkStale();
}

void ScrapeLoop::MarkStale() {
  // A loop that replaced another one on reload and never scraped still owns its series.
  if (!reported_ && inherited_.empty()) return;
  auto app = appendable_->NewAppender();
  AppendFailed(app.get(), NowMs());
  ReportStale(app.get(), NowMs());
  Status s = app->Commit();
  if (!s.ok()) logger_.Warn("Stale append failed", {{"err", s.message()}});
}

std::chrono::nanoseconds ScrapeLoop::InitialOffset() const {
  const int64_t interval = std::chrono::nanoseconds(target_->interval()).count();
  if (interval <= 0) return {};
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  int64_t base = interval - now % interval;
  int64_t offset =
      static_cast<int64_t>((target_->hash() ^ offset_seed_) % static_cast<uint64_t>(interval));
  int64_t next = base + offset;
  if (next > interval) next -= interval;
  return std::chrono::nanoseconds(next);
}

bool ScrapeLoop::SleepUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_until(lock, deadline, [this] { return stop_; });
}

void ScrapeLoop::Run() {
  using Clock = std::chrono::steady_clock;
  const auto interval = target_->interval();
  auto next = Clock::now() + InitialOffset();
  if (!SleepUntil(next)) return;
  prometheus::Summary& interval_length =
      metrics_->IntervalLength(config::Duration::Millis(interval.count()).ToString());
  std::optional<Clock::time_point> last;
  while (true) {
    auto start = Clock::now();
    if (last) interval_length.Observe(std::chrono::duration<double>(start - *last).count());
    last = start;
    ScrapeAndReport(NowMs());
    next += interval;
    while (next <= Clock::now()) next += interval;
    if (!SleepUntil(next)) return;
  }
}

void ScrapeLoop::ScrapeAndReport(int64_t start_ms) {
  const auto start = std::chrono::steady_clock::now();
  Status err;
  {
    std::lock_guard<std::mutex> lock(mu_);
    err = forced_error_;
  }
  if (err.ok()) err = scraper_.Scrape(&body_, &content_type_);
  if (err.Is(StatusCode::kLimitExceeded)) metrics_->exceeded_body_size_limit.Increment();
  std::unique_ptr<storage::Appender> app = appendable_->NewAppender();
  AppendStats stats;
  if (err.ok()) {
    err = Append(app.get(), body_, content_type_, start_ms, &stats);
    if (!err.ok()) {
      Status rb = app->Rollback();
      if (!rb.ok()) logger_.Warn("Rollback failed", {{"err", rb.message()}});
      app = appendable_->NewAppender();
    }
  }
  if (!err.ok()) {
    logger_.Debug("Scrape failed", {{"target", target_->url()}, {"err", err.message()}});
    AppendFailed(app.get(), start_ms);
  }
  const auto duration = std::chrono::steady_clock::now() - start;
  Report(app.get(), start_ms, duration, stats, err);
  Status commit = app->Commit();
  if (!commit.ok()) {
    logger_.Error("Scrape commit failed", {{"target", target_->url()}, {"err", commit.message()}});
  }
  target_->Report(start_ms, duration, err);
  if (cache_.metadata_dirty()) target_->SetMetadata(cache_.TakeMetadata());
}

void ScrapeLoop::SetForcedError(Status err) {
  std::lock_guard<std::mutex> lock(mu_);
  forced_error_ = std::move(err);
}

void ScrapeLoop::AppendFailed(storage::Appender* app, int64_t t) {
  cache_.Begin();
  cur_.clear();
  AppendStale(app, t);
  AppendInheritedStale(app, t);
  prev_.clear();
  cache_.End(false);
}

void ScrapeLoop::AppendStale(storage::Appender* app, int64_t t) {
  const uint64_t iter = cache_.iter();
  for (ScrapeCache::Entry* e : prev_) {
    if (e->last_iter == iter) continue;
    auto r = app->Append(e->slot.ref, e->labels, t, model::StaleNaN());
    if (!r.ok() && !Ignorable(r.status())) {
      logger_.Warn("Stale append failed", {{"series", e->labels.ToString()}});
    }
  }
}

void ScrapeLoop::AppendInheritedStale(storage::Appender* app, int64_t t) {
  if (inherited_.empty()) return;
  // Equal labels have equal refs in the head, so a ref appended now is a series still there.
  std::unordered_set<storage::SeriesRef> now;
  now.reserve(cur_.size());
  for (const ScrapeCache::Entry* e : cur_) now.insert(e->slot.ref);
  for (const InheritedSeries& s : inherited_) {
    if (now.count(s.ref) != 0) continue;
    auto r = app->Append(s.ref, s.labels, t, model::StaleNaN());
    if (!r.ok() && !Ignorable(r.status())) {
      logger_.Warn("Stale append failed", {{"series", s.labels.ToString()}});
    }
  }
  inherited_.clear();
}

void ScrapeLoop::Report(storage::Appender* app, int64_t t, std::chrono::nanoseconds duration,
                        const AppendStats& stats, const Status& err) {
  const double values[5] = {err.ok() ? 1.0 : 0.0, std::chrono::duration<double>(duration).count(),
                            static_cast<double>(stats.total), static_cast<double>(stats.added),
                            static_cast<double>(stats.series_added)};
  for (int i = 0; i < 5; ++i) {
    auto r = app->Append(report_[i].ref, report_[i].labels, t, values[i]);
    if (r.ok()) report_[i].ref = *r;
  }
  reported_ = true;
}

void ScrapeLoop::ReportStale(storage::Appender* app, int64_t t) {
  for (auto& r : report_) {
    auto res = app->Append(r.ref, r.labels, t, model::StaleNaN());
    if (!res.ok() && !Ignorable(res.status())) {
      logger_.Warn("Stale append failed", {{"series", r.labels.ToString()}});
    }
  }
}

}  // namespace kiln::scrape
