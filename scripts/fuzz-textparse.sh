#!/usr/bin/env bash
# Builds the exposition-format parsers' libFuzzer targets (text 0.0.4, OpenMetrics 1.0,
# protobuf delimited) with clang, ASan and UBSan, seeds each with pkg/textparse/testdata
# (golden inputs, captured node_exporter pages, hand-made protobuf families and past
# findings) and runs them one after another for ${FUZZ_SECONDS:-600} seconds each.
# FUZZ_FORMATS="prom openmetrics protobuf" selects which. Exit status is non-zero as soon as
# one reports a crash, leak, timeout or sanitizer finding (the input lands in
# $build/textparse_artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz-textparse}
formats=${FUZZ_FORMATS:-prom openmetrics protobuf}
testdata=pkg/textparse/testdata
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_FUZZ=ON -DKILN_SANITIZE=ON >/dev/null
targets=()
for f in $formats; do targets+=("textparse_${f}_fuzz"); done
cmake --build "$build" --target "${targets[@]}" -j "${FUZZ_JOBS:-$(nproc)}"
mkdir -p "$build/textparse_artifacts"
for f in $formats; do
  corpus="$build/textparse_${f}_corpus"
  mkdir -p "$corpus"
  cp "$testdata/fuzz/$f/"* "$corpus"/
  case $f in
    prom) cp "$testdata"/*.prom "$corpus"/ ;;
    openmetrics) cp "$testdata"/*.om "$corpus"/ ;;
  esac
  echo "== textparse_${f}_fuzz for ${FUZZ_SECONDS:-600}s ($(ls "$corpus" | wc -l) inputs)"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/bin/textparse_${f}_fuzz" "$corpus" -max_total_time="${FUZZ_SECONDS:-600}" \
    -timeout=10 -max_len=16384 -artifact_prefix="$build/textparse_artifacts/${f}-" \
    -print_final_stats=1
done
