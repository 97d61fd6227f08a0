// Throughput of the WAL paths that bound ingest and startup: Log of sample records, and
// replay (Reader + record decoding) of series and sample records.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "pkg/tsdb/record/record.h"
#include "pkg/tsdb/wlog/reader.h"
#include "pkg/tsdb/wlog/wlog.h"

namespace kiln::tsdb::wlog {
namespace {

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

// 1000 samples of 1000 series with realistic deltas, as one commit of a remote_write request.
std::string SamplesRecord(int64_t t) {
  std::vector<record::RefSample> samples;
  for (int i = 0; i < 1000; i++) samples.push_back({uint64_t(i + 1), t + i % 7, i * 0.25});
  std::string rec;
  record::EncodeSamples(samples, &rec);
  return rec;
}

std::string SeriesRecord(int base) {
  std::vector<record::RefSeries> series;
  for (int i = 0; i < 1000; i++) {
    const std::string id = std::to_string(base + i);
    series.push_back({uint64_t(base + i + 1),
                      model::Labels{{"__name__", "http_requests_total"},
                                    {"instance", "10.0.0." + std::to_string(i % 250) + ":9100"},
                                    {"job", "node"},
                                    {"path", "/api/v1/item/" + id}}});
  }
  std::string rec;
  record::EncodeSeries(series, &rec);
  return rec;
}

void BM_LogSamples(benchmark::State& state) {
  const std::string dir = TempPath("kiln-wlog-bench-log");
  std::filesystem::remove_all(dir);
  Options o;
  o.compress = state.range(0) != 0;
  auto wl = std::move(WL::Open(dir, o, Logger(LogLevel::kError))).value();
  const std::string rec = SamplesRecord(1700000000000);
  for (auto _ : state) benchmark::DoNotOptimize(wl->Log(rec));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * rec.size());
  wl.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LogSamples)->Arg(0)->Arg(1);

// Replays 100k series and 1M samples, decoding every record as the head does.
void BM_Replay(benchmark::State& state) {
  const std::string dir = TempPath("kiln-wlog-bench-replay");
  std::filesystem::remove_all(dir);
  {
    Options o;
    o.compress = state.range(0) != 0;
    auto wl = std::move(WL::Open(dir, o, Logger(LogLevel::kError))).value();
    for (int i = 0; i < 100; i++) (void)wl->Log(SeriesRecord(i * 1000));
    for (int i = 0; i < 1000; i++) (void)wl->Log(SamplesRecord(1700000000000 + i * 15000));
  }
  std::vector<record::RefSeries> series;
  std::vector<record::RefSample> samples;
  for (auto _ : state) {
    auto r = std::move(Reader::Open({{dir, -1, -1}})).value();
    while (r->Next()) {
      const std::string_view rec = r->Record();
      if (record::GetType(rec) == record::Type::kSeries) {
        series.clear();
        (void)record::DecodeSeries(rec, &series);
      } else {
        samples.clear();
        (void)record::DecodeSamples(rec, &samples);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * 1100000);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Replay)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kiln::tsdb::wlog
