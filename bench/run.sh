#!/usr/bin/env bash
# `make bench`: the Google Benchmark micro-benchmarks, then the side-by-side workloads.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
for b in "$build"/bin/*_bench; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b" --benchmark_min_time=0.2
done
/usr/bin/python3 bench/run.py --build-dir "$build"
