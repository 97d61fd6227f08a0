// Parse throughput of the exposition-format parsers (MB/s of scrape body), on a synthetic
// scrape shaped like node_exporter output: counters and gauges with 2-4 labels, histograms.
#include <benchmark/benchmark.h>

#include <string>

#include "pkg/textparse/openmetrics_parser.h"
#include "pkg/textparse/prom_parser.h"

namespace {

std::string MakeScrape(bool openmetrics, int families) {
  std::string out;
  for (int f = 0; f < families; ++f) {
    std::string name = "node_metric_" + std::to_string(f);
    out += "# HELP " + name + " Synthetic metric number " + std::to_string(f) + ".\n";
    if (f % 10 == 0) {
      out += "# TYPE " + name + " histogram\n";
      for (const char* le : {"0.005", "0.01", "0.1", "1", "10", "+Inf"}) {
        out += name + "_bucket{handler=\"/api/v1/query\",le=\"" + le + "\"} 1234\n";
      }
      out += name + "_sum{handler=\"/api/v1/query\"} 567.25\n";
      out += name + "_count{handler=\"/api/v1/query\"} 1234\n";
      continue;
    }
    out += "# TYPE " + name + " gauge\n";
    for (int i = 0; i < 8; ++i) {
      out += name + "{device=\"sda" + std::to_string(i) + "\",mode=\"idle\",cpu=\"" +
             std::to_string(i) + "\"} " + std::to_string(123456.789 * (i + 1)) + "\n";
    }
  }
  if (openmetrics) out += "# EOF\n";
  return out;
}

template <typename P>
void BM_Parse(benchmark::State& state, bool openmetrics, bool build_labels) {
  const std::string body = MakeScrape(openmetrics, 500);
  kiln::model::LabelsBuilder b;
  int64_t series = 0;
  for (auto _ : state) {
    P p(body);
    double v;
    std::optional<kiln::model::Timestamp> ts;
    for (auto e = p.Next(); e != kiln::textparse::Entry::kEOF; e = p.Next()) {
      if (e == kiln::textparse::Entry::kInvalid) state.SkipWithError("parse error");
      if (e != kiln::textparse::Entry::kSeries) continue;
      benchmark::DoNotOptimize(p.Series(&v, &ts));
      if (build_labels) p.Labels(&b);
      ++series;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["series/s"] =
      benchmark::Counter(static_cast<double>(series), benchmark::Counter::kIsRate);
}

void BM_PromText(benchmark::State& s) { BM_Parse<kiln::textparse::PromParser>(s, false, false); }
void BM_PromTextLabels(benchmark::State& s) {
  BM_Parse<kiln::textparse::PromParser>(s, false, true);
}
void BM_OpenMetrics(benchmark::State& s) {
  BM_Parse<kiln::textparse::OpenMetricsParser>(s, true, false);
}

BENCHMARK(BM_PromText);
BENCHMARK(BM_PromTextLabels);
BENCHMARK(BM_OpenMetrics);

}  // namespace
