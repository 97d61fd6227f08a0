// XOR chunk encode/decode cost per sample on realistic series shapes. items_per_second is
// samples per second; the target is < 10 ns per sample each way.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "pkg/tsdb/chunkenc/xor.h"

namespace kiln::chunkenc {
namespace {

constexpr int kSamplesPerChunk = 120;

enum Shape { kCounter, kGauge2Decimals, kConstant, kJitteredGauge };

// Samples at 15s intervals; kJitteredGauge adds up to ±50 ms of scrape jitter.
std::vector<std::pair<int64_t, double>> MakeSamples(Shape shape) {
  std::mt19937_64 rng(1);
  std::vector<std::pair<int64_t, double>> out;
  double v = shape == kConstant ? 1 : 100;
  for (int i = 0; i < kSamplesPerChunk; i++) {
    int64_t t = 1700000000000 + i * 15000;
    switch (shape) {
      case kCounter:
        v += static_cast<double>(rng() % 500);
        break;
      case kGauge2Decimals:
        v = std::round((v + static_cast<double>(static_cast<int>(rng() % 201) - 100) / 100) * 100) /
            100;
        break;
      case kConstant:
        break;
      case kJitteredGauge:
        t += static_cast<int64_t>(rng() % 101) - 50;
        v = static_cast<double>(rng() % 10000) / 100;
        break;
    }
    out.push_back({t, v});
  }
  return out;
}

void BM_XorEncode(benchmark::State& state) {
  const auto samples = MakeSamples(static_cast<Shape>(state.range(0)));
  for (auto _ : state) {
    XorChunk chunk;
    auto app = chunk.NewAppender();
    for (const auto& [t, v] : samples) (*app)->Append(t, v);
    benchmark::DoNotOptimize(chunk.Bytes().data());
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerChunk);
}

void BM_XorDecode(benchmark::State& state) {
  const auto samples = MakeSamples(static_cast<Shape>(state.range(0)));
  XorChunk chunk;
  auto app = chunk.NewAppender();
  for (const auto& [t, v] : samples) (*app)->Append(t, v);
  state.counters["bytes_per_sample"] = static_cast<double>(chunk.Bytes().size()) / kSamplesPerChunk;
  std::unique_ptr<Iterator> it;
  for (auto _ : state) {
    it = chunk.NewIterator(std::move(it));
    double sum = 0;
    while (it->Next() == ValueType::kFloat) sum += it->At().second;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerChunk);
}

BENCHMARK(BM_XorEncode)->ArgName("shape")->DenseRange(kCounter, kJitteredGauge);
BENCHMARK(BM_XorDecode)->ArgName("shape")->DenseRange(kCounter, kJitteredGauge);

}  // namespace
}  // namespace kiln::chunkenc
