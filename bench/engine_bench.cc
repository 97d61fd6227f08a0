// PromQL engine benchmarks over a generated head (the dashboard queries issue #4 names):
// 10k counter series and 100 classic histograms (12 buckets each) with 1h05m of 15 s samples,
// range queries over the last hour at a 15 s step; and 10k gauges over 6h for aggregations
// across many series at many steps (issue #5). Reports ns per output sample.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "pkg/tsdb/head.h"
#include "promql/engine.h"

namespace kiln {
namespace {

constexpr int64_t kStep = 15'000;
constexpr int64_t kSpan = 65 * 60'000;
constexpr int kCounters = 10'000;
constexpr int kHistograms = 100;
const double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Builds the data set once per process: one commit per timestamp, as a scraper would.
tsdb::Head* Data() {
  static std::unique_ptr<tsdb::Head> head = [] {
    tsdb::HeadOptions o;
    o.enable_wal = false;
    auto h = tsdb::Head::Open(o);
    if (!h.ok()) std::abort();
    std::vector<model::Labels> series;
    for (int i = 0; i < kCounters; i++) {
      series.push_back(model::Labels{{"__name__", "http_requests_total"},
                                     {"job", "job-" + std::to_string(i % 10)},
                                     {"instance", "host-" + std::to_string(i)}});
    }
    for (int i = 0; i < kHistograms; i++) {
      for (double le : kBuckets) {
        series.push_back(model::Labels{{"__name__", "request_duration_seconds_bucket"},
                                       {"job", "job-" + std::to_string(i % 10)},
                                       {"instance", "host-" + std::to_string(i)},
                                       {"le", std::to_string(le)}});
      }
      series.push_back(model::Labels{{"__name__", "request_duration_seconds_bucket"},
                                     {"job", "job-" + std::to_string(i % 10)},
                                     {"instance", "host-" + std::to_string(i)},
                                     {"le", "+Inf"}});
    }
    std::vector<storage::SeriesRef> refs(series.size(), 0);
    for (int64_t t = 0, k = 0; t <= kSpan; t += kStep, k++) {
      auto app = (*h)->NewAppender();
      for (size_t s = 0; s < series.size(); s++) {
        // Counters grow at per-series rates; buckets grow with their bound.
        const double v = static_cast<double>(k) * static_cast<double>(s % 97 + 1);
        auto r = app->Append(refs[s], series[s], t, v);
        if (r.ok()) refs[s] = *r;
      }
      if (!app->Commit().ok()) std::abort();
    }
    return std::move(*h);
  }();
  return head.get();
}

constexpr int kGauges = 10'000;
constexpr int64_t kGaugeSpan = 6 * 3'600'000;

// 10k gauges (100 instances × 100 CPUs) with 6h of 15 s samples, built once per process.
tsdb::Head* GaugeData() {
  static std::unique_ptr<tsdb::Head> head = [] {
    tsdb::HeadOptions o;
    o.enable_wal = false;
    auto h = tsdb::Head::Open(o);
    if (!h.ok()) std::abort();
    std::vector<model::Labels> series;
    for (int i = 0; i < kGauges; i++) {
      series.push_back(model::Labels{{"__name__", "node_gauge"},
                                     {"cpu", std::to_string(i % 100)},
                                     {"instance", "host-" + std::to_string(i / 100)}});
    }
    std::vector<storage::SeriesRef> refs(series.size(), 0);
    for (int64_t t = 0, k = 0; t <= kGaugeSpan; t += kStep, k++) {
      auto app = (*h)->NewAppender();
      for (size_t s = 0; s < series.size(); s++) {
        const double v = static_cast<double>((k * 7 + static_cast<int64_t>(s)) % 1000) / 10;
        auto r = app->Append(refs[s], series[s], t, v);
        if (r.ok()) refs[s] = *r;
      }
      if (!app->Commit().ok()) std::abort();
    }
    return std::move(*h);
  }();
  return head.get();
}

void RunRangeOn(benchmark::State& state, tsdb::Head* head, const char* query, int64_t start,
                int64_t end) {
  promql::EngineOptions opts;
  opts.max_samples = 500'000'000;
  promql::Engine engine(opts);
  int64_t output = 0;
  for (auto _ : state) {
    auto q = engine.NewRangeQuery(head, query, start, end, kStep);
    if (!q.ok()) {
      state.SkipWithError(q.status().ToString().c_str());
      return;
    }
    auto res = (*q)->Exec();
    if (!res.ok()) {
      state.SkipWithError(res.status().ToString().c_str());
      return;
    }
    output = 0;
    for (const auto& s : std::get<promql::Matrix>(res->value)) {
      output += static_cast<int64_t>(s.floats.size());
    }
  }
  state.counters["output_samples"] = static_cast<double>(output);
  state.counters["ns_per_output_sample"] =
      benchmark::Counter(static_cast<double>(output) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void RunRange(benchmark::State& state, const char* query) {
  RunRangeOn(state, Data(), query, 5 * 60'000, kSpan);
}

void BM_Rate(benchmark::State& s) { RunRange(s, "rate(http_requests_total[5m])"); }
void BM_SumByJobRate(benchmark::State& s) {
  RunRange(s, "sum by (job) (rate(http_requests_total[5m]))");
}
void BM_HistogramQuantile(benchmark::State& s) {
  RunRange(s, "histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))");
}
void BM_Topk(benchmark::State& s) { RunRange(s, "topk(10, rate(http_requests_total[5m]))"); }
void BM_TwoLevelSubquery(benchmark::State& s) {
  RunRange(s, "max_over_time(sum by (job) (rate(http_requests_total[5m]))[10m:1m])");
}
void BM_CountGauges6h(benchmark::State& s) {
  RunRangeOn(s, GaugeData(), "count(node_gauge)", 0, kGaugeSpan);
}
void BM_AvgByInstanceGauges6h(benchmark::State& s) {
  RunRangeOn(s, GaugeData(), "avg by (instance) (node_gauge)", 0, kGaugeSpan);
}

BENCHMARK(BM_Rate)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_SumByJobRate)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_HistogramQuantile)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_Topk)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_TwoLevelSubquery)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_CountGauges6h)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_AvgByInstanceGauges6h)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace kiln
