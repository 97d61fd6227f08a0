#!/usr/bin/python3
"""PromQL compliance harness: Kiln against a real Prometheus 2.42 on identical data.

1. Generates the demo data (demo.py) for a fixed 2 h window.
2. Backfills it into the reference Prometheus with `promtool tsdb create-blocks-from
   openmetrics`, and into the target (Kiln) through its remote_write receiver or kilntool.
3. Starts both on free loopback ports, expands promql-test-queries.yml with variants.yml,
   runs every query as a range query and as instant queries at three times, and compares the
   answers as upstream's compliance tester does: series sorted by labels, values equal within
   a relative 1e-5, NaN equals NaN, and the same error/no-error outcome.
4. Prints each failing query with both answers and ends with "N passed, M failed".

5. With --live-seconds N, the live check of live.py: both servers scrape the same running
   demo exporter for N seconds (stale markers included), then their answers are compared.

Usage: compliance/run.py [--build-dir build] [--target kiln|prometheus] [--slice N]
                         [--live-seconds N] [--skip-backfill]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
import harness  # noqa: E402
import live  # noqa: E402
import promwrite  # noqa: E402
from harness import SHARED, TWEAKS_3X, Server, compare, shorten  # noqa: E402

# A fixed window: 2026-01-01T00:00:00Z + 2h. Fixed so every run sees the same data.
WINDOW_START_MS = 1767225600000
WINDOW_END_MS = WINDOW_START_MS + 2 * 3600 * 1000
# Range queries: 10 minutes at a 10 s step, late in the window so 1 h ranges have data.
RANGE_START_S = WINDOW_START_MS / 1000 + 90 * 60
RANGE_END_S = RANGE_START_S + 10 * 60
STEP_S = 10
INSTANT_TIMES_S = [RANGE_START_S + 5 * 60, RANGE_START_S + 14 * 60 + 10.5, WINDOW_END_MS / 1000 - 1]


def remote_write_window(url, slice_ms=5 * 60 * 1000):
    """Sends the demo window through remote_write in time order, one request per 5 minutes
    of data holding every series' samples of that slice, as a Prometheus sender would."""
    slice_end = WINDOW_START_MS + slice_ms
    series = {}
    for t, labels, value in demo.generate(WINDOW_START_MS, WINDOW_END_MS):
        if t >= slice_end:
            _send(url, [(list(k), v) for k, v in series.items()])
            series = {}
            slice_end += slice_ms
        series.setdefault(tuple(sorted(labels.items())), []).append((t, value))
    if series:
        _send(url, [(list(k), v) for k, v in series.items()])


def _send(url, batch):
    status, text = promwrite.post(url + "/api/v1/write", promwrite.encode_write_request(batch))
    if status // 100 != 2:
        raise RuntimeError(f"remote_write got {status}: {text}")



def run_queries(ref, target, queries, verbose):
    passed = failed = 0
    for case in queries:
        q = case["query"]
        ref_q, kiln_q, _ = TWEAKS_3X.get(q, (q, q, ""))
        requests = [("/api/v1/query_range", {"start": RANGE_START_S, "end": RANGE_END_S, "step": STEP_S})]
        requests += [("/api/v1/query", {"time": t}) for t in INSTANT_TIMES_S]
        for path, params in requests:
            r = ref.api(path, dict(params, query=ref_q))
            g = target.api(path, dict(params, query=kiln_q))
            reason = compare(r, g)
            if case["should_fail"] and r[1].get("status") == "success":
                reason = reason or "reference did not fail on a should_fail query"
            if case["skip_comparison"] and reason and reason != "error mismatch":
                reason = None
            kind = "range" if path.endswith("range") else f"instant@{params['time']}"
            if reason is None:
                passed += 1
                if verbose:
                    print(f"PASS {kind} {q}")
            else:
                failed += 1
                print(f"FAIL {kind} {q}: {reason}")
                if ref_q != q or kiln_q != q:
                    print(f"  (3.x tweak: reference ran {ref_q!r}, kiln ran {kiln_q!r})")
                print(f"  prometheus: {shorten(r[1])}")
                print(f"  kiln:       {shorten(g[1])}")
    return passed, failed


def run_backfilled(args, work):
    """The backfilled suite (steps 1-4 of the module comment). Returns (passed, failed)."""
    servers = []
    try:
        om = os.path.join(work, "demo.om")
        n = demo.write_openmetrics(om, WINDOW_START_MS, WINDOW_END_MS)
        print(f"generated {n} samples")
        ref_dir = os.path.join(work, "prometheus")
        subprocess.run(["/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics", om, ref_dir],
                       check=True, stdout=subprocess.DEVNULL)
        config = os.path.join(work, "empty.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 5s\n")
        ref = Server("prometheus", harness.prometheus_argv(ref_dir, config), work)
        servers.append(ref)
        target = Server(args.target, target_argv(args)(os.path.join(work, "target"), config), work)
        servers.append(target)
        ref.wait_ready()
        target.wait_ready()
        remote_write_window(target.url)

        queries = selected_queries(args)
        if args.slice > 1:
            queries = queries[:: args.slice]
        print(f"{len(queries)} queries, each as 1 range and {len(INSTANT_TIMES_S)} instant queries")
        return run_queries(ref, target, queries, args.verbose)
    finally:
        for s in servers:
            s.stop()


def target_argv(args):
    """(data dir, config) -> argv function of the system under test."""
    if args.target == "prometheus":
        return harness.prometheus_argv
    binary = os.path.join(args.build_dir, "bin", "kiln")
    return lambda data_dir, config: harness.kiln_argv(binary, data_dir, config)


def selected_queries(args):
    queries = harness.expand_queries()
    if args.grep:
        queries = [q for q in queries if args.grep in q["query"]]
    return queries


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(harness.ROOT, "build"))
    ap.add_argument("--target", choices=["kiln", "prometheus"], default="kiln",
                    help="system under test (prometheus = harness self-check)")
    ap.add_argument("--slice", type=int, default=0,
                    help="run only every N-th expanded query (a fast slice for make test)")
    ap.add_argument("--grep", default="", help="run only queries containing this text")
    ap.add_argument("--live-seconds", type=int, default=0,
                    help="after the backfilled suite, run the live check (live.py) for this "
                         "long: 180 for make compliance, 60 for make test's short mode; 0 = off")
    ap.add_argument("--skip-backfill", action="store_true",
                    help="run only the live check")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    if not os.path.exists("/usr/bin/prometheus"):
        print("SKIP compliance: /usr/bin/prometheus not installed; run scripts/install-deps.sh")
        return 77
    if not os.path.isdir(os.path.join(SHARED, "compliance")):
        print(f"SKIP compliance: {SHARED}/compliance not found (set KILN_SHARED_DIR)")
        return 77
    # A SIGTERM unwinds, so the servers are stopped and the work directory removed (CTest's
    # TIMEOUT is a SIGKILL: see e2e_lib's parent-death signal and remove_orphaned_dirs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    harness.e2e_lib.remove_orphaned_dirs("kiln-compliance-")  # left by runs killed by SIGKILL
    work = tempfile.mkdtemp(prefix=f"kiln-compliance-{os.getpid()}-")
    failed_total = 0
    try:
        if not args.skip_backfill:
            passed, failed = run_backfilled(args, work)
            print(f"compliance: {passed} passed, {failed} failed")
            failed_total += failed
        if args.live_seconds > 0:
            passed, failed = live.run_live(harness.prometheus_argv, args.target, target_argv(args),
                                           work, selected_queries(args), args.live_seconds,
                                           args.verbose)
            print(f"compliance live: {passed} passed, {failed} failed")
            failed_total += failed
        return 0 if failed_total == 0 else 1
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
