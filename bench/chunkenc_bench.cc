// XOR chunk encode/decode cost per sample on realistic series. The target (issue 2) is
// under 10 ns per sample each way; the time_per_sample counter reports it directly (CPU
// time).
//
// What is measured, and why:
//  - Encode: one full chunk per iteration, from construction (buffer allocation, appender
//    creation) through 120 appends to destruction, so creation cost is amortised over the
//    120 samples a Prometheus head chunk holds.
//  - Decode: one full chunk per iteration through a reused iterator (as queries do), with
//    every timestamp and value consumed.
//  - Each iteration takes the next of kSeries different series of the same shape, so the
//    branch predictor cannot learn one 120-sample sequence by heart; the data of all series
//    together stays within L2, as a hot head chunk's would.
//  - Timestamps are scrape-like: a 15 s interval with a few ms of jitter (as real scrapes
//    have), except for recording-rule output, which Prometheus timestamps exactly.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "pkg/tsdb/chunkenc/xor.h"

namespace kiln::chunkenc {
namespace {

constexpr int kSamplesPerChunk = 120;
constexpr int kSeries = 64;
constexpr int64_t kInterval = 15000;

enum Shape {
  kCounter,     // integer counter with varying increments (http_requests_total)
  kGauge,       // slowly wandering gauge with 2 decimals (temperature, queue length)
  kConstant,    // unchanging value (up, *_info)
  kNoisyGauge,  // full-precision floats (latency in seconds, ratios)
  kRuleOutput,  // full-precision floats at exact timestamps (recording rule rate())
};

struct Sample {
  int64_t t;
  double v;
};

std::vector<Sample> MakeSeries(Shape shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Sample> out;
  int64_t t0 = 1700000000000 + static_cast<int64_t>(rng() % kInterval);
  double v = shape == kConstant ? 1 : static_cast<double>(rng() % 1000);
  for (int i = 0; i < kSamplesPerChunk; i++) {
    int64_t t = t0 + i * kInterval;
    if (shape != kRuleOutput) t += static_cast<int64_t>(rng() % 8);  // scrape jitter, ms
    switch (shape) {
      case kCounter:
        v += static_cast<double>(rng() % 300);
        break;
      case kGauge:
        v = std::round((v + (unit(rng) - 0.5) * 4) * 100) / 100;
        break;
      case kConstant:
        break;
      case kNoisyGauge:
        v = 0.05 + unit(rng) * 0.2;
        break;
      case kRuleOutput:
        v = 100 + unit(rng) * 10;
        break;
    }
    out.push_back({t, v});
  }
  return out;
}

std::vector<std::vector<Sample>> MakeCorpus(Shape shape) {
  std::vector<std::vector<Sample>> corpus;
  for (int i = 0; i < kSeries; i++) corpus.push_back(MakeSeries(shape, 1000 * shape + i));
  return corpus;
}

void Encode(const std::vector<Sample>& samples, XorChunk* chunk) {
  auto app = chunk->NewAppender();
  if (!app.ok()) std::abort();
  for (const Sample& s : samples) (*app)->Append(s.t, s.v);
}

void SetCounters(benchmark::State& state, size_t bytes) {
  const double samples = static_cast<double>(state.iterations()) * kSamplesPerChunk;
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  // CPU time per sample, printed with an SI prefix and "s": "7.1ns".
  state.counters["time_per_sample"] =
      benchmark::Counter(samples, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_sample"] =
      static_cast<double>(bytes) / (static_cast<double>(kSeries) * kSamplesPerChunk);
}

void BM_XorEncode(benchmark::State& state, Shape shape) {
  const auto corpus = MakeCorpus(shape);
  size_t bytes = 0;
  for (const auto& series : corpus) {
    XorChunk chunk;
    Encode(series, &chunk);
    bytes += chunk.Bytes().size();
  }
  size_t i = 0;
  for (auto _ : state) {
    XorChunk chunk;
    Encode(corpus[i], &chunk);
    benchmark::DoNotOptimize(chunk.Bytes().data());
    i = (i + 1) % kSeries;
  }
  SetCounters(state, bytes);
}

void BM_XorDecode(benchmark::State& state, Shape shape) {
  const auto corpus = MakeCorpus(shape);
  std::vector<std::unique_ptr<XorChunk>> chunks;
  size_t bytes = 0;
  for (const auto& series : corpus) {
    chunks.push_back(std::make_unique<XorChunk>());
    Encode(series, chunks.back().get());
    chunks.back()->Compact();  // as a full chunk is kept
    bytes += chunks.back()->Bytes().size();
  }
  std::unique_ptr<Iterator> it;
  size_t i = 0;
  for (auto _ : state) {
    it = chunks[i]->NewIterator(std::move(it));
    int64_t tsum = 0;
    double vsum = 0;
    while (it->Next() == ValueType::kFloat) {
      const auto [t, v] = it->At();
      tsum += t;
      vsum += v;
    }
    if (!it->err().ok()) std::abort();
    benchmark::DoNotOptimize(tsum);
    benchmark::DoNotOptimize(vsum);
    i = (i + 1) % kSeries;
  }
  SetCounters(state, bytes);
}

BENCHMARK_CAPTURE(BM_XorEncode, counter, kCounter);
BENCHMARK_CAPTURE(BM_XorEncode, gauge, kGauge);
BENCHMARK_CAPTURE(BM_XorEncode, constant, kConstant);
BENCHMARK_CAPTURE(BM_XorEncode, noisy_gauge, kNoisyGauge);
BENCHMARK_CAPTURE(BM_XorEncode, rule_output, kRuleOutput);
BENCHMARK_CAPTURE(BM_XorDecode, counter, kCounter);
BENCHMARK_CAPTURE(BM_XorDecode, gauge, kGauge);
BENCHMARK_CAPTURE(BM_XorDecode, constant, kConstant);
BENCHMARK_CAPTURE(BM_XorDecode, noisy_gauge, kNoisyGauge);
BENCHMARK_CAPTURE(BM_XorDecode, rule_output, kRuleOutput);

}  // namespace
}  // namespace kiln::chunkenc
