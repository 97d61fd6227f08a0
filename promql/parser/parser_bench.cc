// Parse and print cost of typical dashboard and rule queries.
#include <benchmark/benchmark.h>

#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

namespace kiln::promql::parser {
namespace {

constexpr const char* kQueries[] = {
    "up",
    "rate(http_requests_total{job=\"api\", code=~\"5..\"}[5m])",
    "histogram_quantile(0.99, sum by (le, job) (rate(request_duration_seconds_bucket{job=\"api\", "
    "verb!=\"WATCH\"}[5m])))",
    "sum by (namespace) (rate(container_cpu_usage_seconds_total{image!=\"\"}[5m])) / on "
    "(namespace) group_left sum by (namespace) (kube_pod_container_resource_requests{resource="
    "\"cpu\"}) > 0.8 unless on (namespace) kube_namespace_labels{label_tier=\"dev\"}",
};

void BM_ParseExpr(benchmark::State& state) {
  const char* q = kQueries[state.range(0)];
  for (auto _ : state) {
    auto e = ParseExpr(q);
    benchmark::DoNotOptimize(e);
  }
  state.SetLabel(q);
}
BENCHMARK(BM_ParseExpr)->DenseRange(0, 3);

void BM_ExprString(benchmark::State& state) {
  auto e = ParseExpr(kQueries[state.range(0)]);
  for (auto _ : state) benchmark::DoNotOptimize((*e)->ToString());
}
BENCHMARK(BM_ExprString)->DenseRange(0, 3);

}  // namespace
}  // namespace kiln::promql::parser
