#!/usr/bin/env bash
# Builds the PromQL parser's libFuzzer target with clang, ASan and UBSan, seeds it with
# every query of Prometheus's test corpus and the compliance suite, and runs it for
# ${FUZZ_SECONDS:-600} seconds. Exit status is libFuzzer's: non-zero on a crash, leak or
# sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
shared=${KILN_SHARED_DIR:-../shared}
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_FUZZ=ON -DKILN_SANITIZE=ON >/dev/null
cmake --build "$build" --target promql_parse_fuzz -j "$(nproc)"
corpus="$build/parse_fuzz_corpus"
mkdir -p "$corpus"
/usr/bin/python3 - "$shared" "$corpus" <<'PY'
import hashlib, itertools, os, re, sys, yaml
shared, out = sys.argv[1], sys.argv[2]
queries = set()
for name in sorted(os.listdir(os.path.join(shared, "promqltest"))):
    if not name.endswith(".test"):
        continue
    for line in open(os.path.join(shared, "promqltest", name)):
        m = re.match(r"\s*eval(?:_\w+)?\s+(?:instant at \S+|range from \S+ to \S+ step \S+)\s+(.*)$", line)
        if m:
            queries.add(m.group(1).strip())
comp = os.path.join(shared, "compliance")
cases = yaml.safe_load(open(os.path.join(comp, "promql-test-queries.yml")))["test_cases"]
variants = yaml.safe_load(open(os.path.join(comp, "variants.yml")))
for c in cases:
    args = c.get("variant_args") or []
    for combo in itertools.product(*[variants[a] for a in args]):
        q = c["query"]
        for a, v in zip(args, combo):
            q = q.replace("{{." + a + "}}", v)
        queries.add(q)
for q in queries:
    with open(os.path.join(out, hashlib.sha1(q.encode()).hexdigest()), "w") as f:
        f.write(q)
print(f"{len(queries)} seed queries", file=sys.stderr)
PY
cp promql/parser/testdata/fuzz_regressions/* "$corpus"/
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$build/bin/promql_parse_fuzz" "$corpus" -max_total_time="${FUZZ_SECONDS:-600}" -timeout=10 \
  -print_final_stats=1
