// Head append throughput and memory: 100k series (the labels of a typical node exporter
// target), appended round after round at 15 s spacing in batches of 1000 series per
// transaction, as a scrape or a remote_write request would. items_per_second is samples per
// second; bytes_per_series is the heap growth per series after creation and 120 rounds (one
// full chunk each), to compare against Prometheus's ~3.4 kB per series (bench/BENCHMARKS.md).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "pkg/tsdb/head.h"

namespace kiln::tsdb {
namespace {

constexpr int kSeries = 100000;
constexpr int kBatch = 1000;
constexpr int64_t kStart = 1700000000000;
constexpr int64_t kInterval = 15000;

std::vector<model::Labels> MakeLabels() {
  std::vector<model::Labels> out;
  out.reserve(kSeries);
  for (int i = 0; i < kSeries; ++i) {
    out.push_back(model::Labels{{"__name__", "node_metric_" + std::to_string(i % 500)},
                                {"instance", "10.0.0." + std::to_string(i / 500) + ":9100"},
                                {"job", "node"},
                                {"cpu", std::to_string(i % 8)},
                                {"mode", i % 2 ? "user" : "system"}});
  }
  return out;
}

// Heap bytes in use. RSS would not do: earlier runs of the benchmark leave freed memory
// in the allocator.
int64_t HeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

struct Fixture {
  std::string dir;
  std::unique_ptr<Head> head;
  std::vector<storage::SeriesRef> refs;
  std::vector<double> values;
  int64_t round = 0;

  explicit Fixture(bool wal) {
    if (wal) {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "kiln-head-bench-XXXXXX").string();
      dir = mkdtemp(tmpl.data());
    }
    HeadOptions o;
    o.dir = dir;
    o.enable_wal = wal;
    o.logger = Logger(LogLevel::kError);
    head = std::move(Head::Open(o)).value();
    refs.assign(kSeries, 0);
    values.assign(kSeries, 100);
  }
  ~Fixture() {
    head.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  // One round: every series gets one sample. Values drift like counters and 2-decimal
  // gauges so chunks compress realistically.
  void AppendRound(const std::vector<model::Labels>& labels, std::mt19937_64* rng) {
    int64_t t = kStart + round * kInterval + static_cast<int64_t>((*rng)() % 50);
    for (int b = 0; b < kSeries; b += kBatch) {
      auto app = head->NewAppender();
      for (int i = b; i < b + kBatch; ++i) {
        values[i] = i % 2 ? values[i] + static_cast<double>((*rng)() % 100)
                          : std::round(static_cast<double>((*rng)() % 10000)) / 100;
        auto r = app->Append(refs[i], labels[i], t, values[i]);
        if (r.ok()) refs[i] = *r;
      }
      (void)app->Commit();
    }
    ++round;
  }
};

void BM_HeadAppend(benchmark::State& state) {
  static const std::vector<model::Labels> labels = MakeLabels();
  std::mt19937_64 rng(1);
  int64_t rss_before = HeapBytes();
  Fixture f(state.range(0) != 0);
  f.AppendRound(labels, &rng);  // creates the series
  for (auto _ : state) f.AppendRound(labels, &rng);
  state.SetItemsProcessed(state.iterations() * kSeries);
  // Fill every series to one full chunk before measuring memory.
  while (f.round < 121) f.AppendRound(labels, &rng);
  state.counters["bytes_per_series"] =
      static_cast<double>(HeapBytes() - rss_before) / static_cast<double>(kSeries);
}
BENCHMARK(BM_HeadAppend)->Arg(0)->Arg(1)->ArgName("wal")->Unit(benchmark::kMillisecond);

void BM_HeadCreateSeries(benchmark::State& state) {
  static const std::vector<model::Labels> labels = MakeLabels();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    Fixture f(false);
    f.AppendRound(labels, &rng);
  }
  state.SetItemsProcessed(state.iterations() * kSeries);
}
BENCHMARK(BM_HeadCreateSeries)->Unit(benchmark::kMillisecond);

void BM_HeadSelect(benchmark::State& state) {
  static const std::vector<model::Labels> labels = MakeLabels();
  std::mt19937_64 rng(1);
  Fixture f(false);
  while (f.round < 60) f.AppendRound(labels, &rng);
  auto m = model::Matcher::Make(model::MatchType::kEqual, "__name__", "node_metric_7").value();
  auto mode = model::Matcher::Make(model::MatchType::kRegexMatch, "mode", "user|idle").value();
  size_t samples = 0;
  for (auto _ : state) {
    auto q = std::move(f.head->NewQuerier(0, kStart * 2)).value();
    auto set = q->Select(true, nullptr, {m, mode});
    while (set->Next()) {
      auto it = set->At().Iterator();
      while (it->Next() != chunkenc::ValueType::kNone) ++samples;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
}
BENCHMARK(BM_HeadSelect)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kiln::tsdb
