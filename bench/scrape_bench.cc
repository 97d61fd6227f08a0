// Steady-state scrape append: 1,000 series already in the scrape cache and the head, parsed
// and appended once per iteration (no HTTP), as a scrape loop does every interval.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "pkg/config/config.h"
#include "pkg/scrape/scrape_loop.h"
#include "pkg/tsdb/head.h"

namespace {

using namespace kiln;

std::string Page(int series) {
  std::string body = "# HELP bench_metric A benchmark metric.\n# TYPE bench_metric gauge\n";
  for (int i = 0; i < series; ++i) {
    body += "bench_metric{shard=\"" + std::to_string(i % 10) + "\",id=\"" + std::to_string(i) +
            "\"} " + std::to_string(i * 1.5) + "\n";
  }
  return body;
}

// One iteration scrapes `targets` loops of `series` series each (distinct series, as
// distinct instance labels make them): with 200 x 1,000 the series no longer fit in the
// CPU caches, as in `make bench`'s scrape workload, and cache misses dominate.
void SteadyStateScrape(benchmark::State& state, int targets, int series) {
  tsdb::HeadOptions ho;
  ho.enable_wal = false;
  auto head = tsdb::Head::Open(ho);
  auto cfg = config::Load(
      "scrape_configs:\n- job_name: bench\n  static_configs:\n  - targets: ['127.0.0.1:1']\n",
      "bench.yml", "/tmp");
  auto sc = std::make_shared<const config::ScrapeConfig>(cfg->scrape_configs[0]);
  scrape::ScrapeMetrics metrics(nullptr);
  std::vector<std::unique_ptr<scrape::ScrapeLoop>> loops;
  for (int i = 0; i < targets; ++i) {
    const std::string address = "127.0.0.1:" + std::to_string(1000 + i);
    auto labels = scrape::PopulateLabels({}, model::Labels{{"__address__", address}}, *sc);
    auto target = std::make_shared<scrape::Target>(labels->labels, labels->discovered, sc->params);
    loops.push_back(
        std::make_unique<scrape::ScrapeLoop>(target, sc, head->get(), &metrics, 0, Logger()));
  }
  const std::string body = Page(series);
  int64_t t = 1000;
  auto scrape_all = [&] {
    for (auto& loop : loops) {
      auto app = (*head)->NewAppender();
      scrape::AppendStats stats;
      kiln::Status s = loop->Append(app.get(), body, "text/plain; version=0.0.4", t, &stats);
      if (!s.ok() || !app->Commit().ok()) state.SkipWithError("append failed");
    }
    t += 15000;
  };
  // The first scrape creates the series; the second is the first with a warm cache.
  scrape_all();
  scrape_all();
  for (auto _ : state) scrape_all();
  // Seconds per sample (printed with an SI prefix, e.g. "120n" = 120 ns).
  state.counters["time_per_sample"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * targets * series,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  (void)(*head)->Close();
}

void BM_SteadyStateScrape(benchmark::State& state) {
  SteadyStateScrape(state, 1, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_SteadyStateScrape)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_SteadyStateScrapeManyTargets(benchmark::State& state) {
  SteadyStateScrape(state, static_cast<int>(state.range(0)), 1000);
}
BENCHMARK(BM_SteadyStateScrapeManyTargets)->Arg(200)->MinTime(2)->Unit(benchmark::kMillisecond);

}  // namespace
