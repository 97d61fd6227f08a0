// ScrapeLoop: scrapes one target every interval on its own thread and appends the result,
// as upstream's scrapeLoop.
//
// Timing: the first scrape happens at Prometheus's offset within the interval
// (hash(target) ^ seed, modulo the interval), then every interval; missed ticks are skipped.
// Each scrape is one Appender transaction: the samples (target labels attached, honor_labels
// conflicts renamed to exported_<name>, metric_relabel_configs applied, label limits and
// sample_limit enforced), stale markers for series that vanished since the previous scrape,
// and the report series up, scrape_duration_seconds, scrape_samples_scraped,
// scrape_samples_post_metric_relabeling and scrape_series_added. A failed scrape (HTTP error,
// parse error, a limit) rolls the samples back, writes stale markers for everything the
// previous scrape produced and reports up=0.
//
// Thread-safety: Start/Stop from one controlling thread; ScrapeAndReport and Append must not
// run concurrently with the loop thread (tests and benchmarks call them on a loop that was
// never started).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pkg/config/scrape_config.h"
#include "pkg/scrape/http_scraper.h"
#include "pkg/scrape/metrics.h"
#include "pkg/scrape/scrape_cache.h"
#include "pkg/scrape/target.h"
#include "pkg/storage/appender.h"
#include "pkg/util/logger.h"

namespace kiln::scrape {

struct AppendStats {
  int64_t total = 0;         // samples in the page
  int64_t added = 0;         // after metric relabeling
  int64_t series_added = 0;  // series not seen in earlier scrapes
};

class ScrapeLoop {
 public:
  ScrapeLoop(std::shared_ptr<Target> target, std::shared_ptr<const config::ScrapeConfig> cfg,
             storage::Appendable* appendable, ScrapeMetrics* metrics, uint64_t offset_seed,
             Logger logger);
  ~ScrapeLoop();
  ScrapeLoop(const ScrapeLoop&) = delete;
  ScrapeLoop& operator=(const ScrapeLoop&) = delete;

  void Start();
  // Before Start(): continues from `old`, the stopped loop of the same target that a config
  // reload replaces. With `reuse_cache` (the configs differ only in settings that cannot
  // change which series a page yields or their labels: upstream's reusableCache), takes over
  // its series cache, the series of its last scrape and its report series, so the reload
  // re-parses no labels, reports no series as added and still marks vanishing series stale.
  // Otherwise only remembers the series of its last scrape: those the new config no longer
  // yields get stale markers at this loop's first scrape (upstream writes them when the old
  // loop's run ends, about one interval later).
  void TakeOver(ScrapeLoop* old, bool reuse_cache);
  // Stops the thread. With `write_stale_markers` (the target went away), marks every series
  // of the last scrape and the report series stale, as upstream does at the end of a run.
  void Stop(bool write_stale_markers);
  // Marks every series of the last scrape and the report series stale. Stop(true) does it; a
  // loop already stopped without markers (on reload) gets them when its target is gone.
  // REQUIRES: stopped.
  void MarkStale();

  // One scrape at wall-clock `start_ms`: fetch, append, report, commit.
  void ScrapeAndReport(int64_t start_ms);
  // While set (not OK), scrapes are skipped and reported failed with this error, as upstream
  // does for every target of a pool over its target_limit.
  void SetForcedError(Status err);
  // Parses `body` and appends its samples and stale markers at `t` into `app`. On error the
  // caller must roll `app` back and call AppendFailed.
  Status Append(storage::Appender* app, std::string_view body, std::string_view content_type,
                int64_t t, AppendStats* stats);
  // The empty append after a failure: stale markers for everything the last good scrape had.
  void AppendFailed(storage::Appender* app, int64_t t);

  const std::shared_ptr<Target>& target() const { return target_; }

 private:
  void Run();
  // Sleeps until `deadline`; false when stopped meanwhile.
  bool SleepUntil(std::chrono::steady_clock::time_point deadline);
  std::chrono::nanoseconds InitialOffset() const;
  Status AppendEntries(storage::Appender* app, std::string_view body, std::string_view content_type,
                       int64_t t, AppendStats* stats);
  // A series not in the cache: builds its labels; false when metric relabeling dropped it.
  Status AddSeries(std::string_view text, ScrapeCache::Entry** entry);
  Status CheckLabelLimits(std::string_view text, const model::Labels& lset) const;
  Status AppendOne(storage::Appender* app, ScrapeCache::Entry* e, int64_t t, double v, bool is_new,
                   AppendStats* stats);
  void AppendStale(storage::Appender* app, int64_t t);
  // Stale markers for the series inherited from a replaced loop that this append did not
  // produce; once, at the first append.
  void AppendInheritedStale(storage::Appender* app, int64_t t);
  void Report(storage::Appender* app, int64_t t, std::chrono::nanoseconds duration,
              const AppendStats& stats, const Status& err);
  void ReportStale(storage::Appender* app, int64_t t);

  const std::shared_ptr<Target> target_;
  const std::shared_ptr<const config::ScrapeConfig> cfg_;
  storage::Appendable* const appendable_;
  ScrapeMetrics* const metrics_;
  const uint64_t offset_seed_;
  const Logger logger_;
  HttpScraper scraper_;

  // Loop-thread state.
  ScrapeCache cache_;
  // Content-Type of this loop's last successful append: the cache's series texts are in the
  // format it selects (with this loop's fallback protocol; a cache inherited on reload has
  // none until the first success, as the fallback may have changed).
  std::optional<std::string> cache_content_type_;
  std::vector<ScrapeCache::Entry*> cur_;   // tracked series appended in this iteration
  std::vector<ScrapeCache::Entry*> prev_;  // … in the last successful one
  model::LabelsBuilder builder_;
  std::string body_;
  std::string content_type_;
  struct ReportSeries {
    model::Labels labels;
    storage::SeriesRef ref = 0;
  };
  ReportSeries report_[5];
  bool reported_ = false;
  struct InheritedSeries {
    storage::SeriesRef ref = 0;
    model::Labels labels;
  };
  std::vector<InheritedSeries> inherited_;  // see TakeOver

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;    // guarded by mu_
  Status forced_error_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kiln::scrape
