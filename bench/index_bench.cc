// Postings set operations and index reads: the cost of answering matchers against a block.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <set>

#include "pkg/tsdb/index/index_reader.h"
#include "pkg/tsdb/index/index_writer.h"
#include "pkg/tsdb/index/postings.h"

namespace kiln::tsdb::index {
namespace {

std::vector<uint64_t> EveryKth(uint64_t n, uint64_t k, uint64_t offset) {
  std::vector<uint64_t> v;
  for (uint64_t i = offset; i < n; i += k) v.push_back(i);
  return v;
}

// Two lists of 1M/k1 and 1M/k2 refs; items are refs produced.
void BM_Intersect(benchmark::State& state) {
  const auto a = EveryKth(1 << 20, state.range(0), 0), b = EveryKth(1 << 20, state.range(1), 0);
  size_t n = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<Postings>> its;
    its.push_back(NewSpanPostings(a));
    its.push_back(NewSpanPostings(b));
    auto p = Intersect(std::move(its));
    while (p->Next()) n++;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_Intersect)->Args({2, 3})->Args({1, 1000});

void BM_Merge(benchmark::State& state) {
  std::vector<std::vector<uint64_t>> lists;
  for (int i = 0; i < state.range(0); i++) lists.push_back(EveryKth(1 << 18, state.range(0), i));
  size_t n = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<Postings>> its;
    for (const auto& l : lists) its.push_back(NewSpanPostings(l));
    auto p = Merge(std::move(its));
    while (p->Next()) n++;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_Merge)->Arg(2)->Arg(16);

// Decoding series entries (labels and 12 chunk metas) from a 10k-series index.
void BM_SeriesDecode(benchmark::State& state) {
  char tmpl[] = "/tmp/kiln_index_bench_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::vector<model::Labels> series;
  std::set<std::string> symbols;
  for (int i = 0; i < 10000; i++) {
    series.push_back(model::Labels{{"__name__", "metric_" + std::to_string(i % 100)},
                                   {"instance", "host-" + std::to_string(i / 100) + ":9100"},
                                   {"job", "node"}});
    for (const auto& l : series.back()) {
      symbols.emplace(l.name);
      symbols.emplace(l.value);
    }
  }
  std::sort(series.begin(), series.end());
  std::vector<chunks::ChunkMeta> metas(12);
  {
    auto w = IndexWriter::Open(dir + "/index");
    for (const auto& s : symbols) (void)(*w)->AddSymbol(s);
    for (size_t i = 0; i < series.size(); i++) {
      for (size_t j = 0; j < metas.size(); j++) {
        metas[j] = {i * 2000 + j * 150, int64_t(j) * 1800000, int64_t(j) * 1800000 + 1785000, {}};
      }
      (void)(*w)->AddSeries(series[i], metas);
    }
    (void)(*w)->Close();
  }
  auto r = IndexReader::Open(dir + "/index");
  auto ids = ExpandPostings((*r)->AllPostings().get());
  model::Labels l;
  size_t i = 0;
  for (auto _ : state) {
    (void)(*r)->Series((*ids)[i++ % ids->size()], &l, &metas);
    benchmark::DoNotOptimize(l);
  }
  state.SetItemsProcessed(state.iterations());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SeriesDecode);

}  // namespace
}  // namespace kiln::tsdb::index
