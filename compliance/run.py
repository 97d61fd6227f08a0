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

Usage: compliance/run.py [--build-dir build] [--target kiln|prometheus] [--slice N]
"""

import argparse
import itertools
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
import promwrite  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("KILN_SHARED_DIR", os.path.join(ROOT, "..", "shared"))

# A fixed window: 2026-01-01T00:00:00Z + 2h. Fixed so every run sees the same data.
WINDOW_START_MS = 1767225600000
WINDOW_END_MS = WINDOW_START_MS + 2 * 3600 * 1000
# Range queries: 10 minutes at a 10 s step, late in the window so 1 h ranges have data.
RANGE_START_S = WINDOW_START_MS / 1000 + 90 * 60
RANGE_END_S = RANGE_START_S + 10 * 60
STEP_S = 10
INSTANT_TIMES_S = [RANGE_START_S + 5 * 60, RANGE_START_S + 14 * 60 + 10.5, WINDOW_END_MS / 1000 - 1]
REL_TOLERANCE = 1e-5

# Queries whose answer legitimately differs between Prometheus 2.42 (the reference here) and
# 3.x (what Kiln implements), each tweaked the way upstream's harness allows — a query tweak,
# never a dropped query. Maps the original query to the query sent to the reference, the query
# sent to Kiln, and the upstream change that explains it.
UTF8_NAMES = ("Prometheus 3.0 validates label names as UTF-8 (UTF-8 names are the default since "
              "prometheus/prometheus#14705), so \"~invalid\" is a valid target label in 3.x and "
              "the query succeeds; both systems get the empty name, invalid in 2.x and 3.x alike")
LEFT_OPEN = ("Prometheus 3.0 made range and subquery windows left-open, (t-r, t] instead of "
             "[t-r, t] (prometheus/prometheus#13904); a subquery's steps sit exactly on its window "
             "start, so the reference gets the window 1 ms shorter, which selects the same points "
             "under 2.x's closed rule as [5m:10s] does under 3.x's left-open one")
TWEAKS_3X = {
    'label_replace(demo_num_cpus, "~invalid", "", "src", "(.*)")': (
        'label_replace(demo_num_cpus, "", "", "src", "(.*)")',
        'label_replace(demo_num_cpus, "", "", "src", "(.*)")', UTF8_NAMES),
    'label_join(demo_num_cpus, "~invalid", "-", "instance")': (
        'label_join(demo_num_cpus, "", "-", "instance")',
        'label_join(demo_num_cpus, "", "-", "instance")', UTF8_NAMES),
    'max_over_time((time() - max(demo_batch_last_success_timestamp_seconds) < 1000)[5m:10s] offset 5m)': (
        'max_over_time((time() - max(demo_batch_last_success_timestamp_seconds) < 1000)[4m59s999ms:10s] offset 5m)',
        'max_over_time((time() - max(demo_batch_last_success_timestamp_seconds) < 1000)[5m:10s] offset 5m)',
        LEFT_OPEN),
    'avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[2m:10s])': (
        'avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[1m59s999ms:10s])',
        'avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[2m:10s])', LEFT_OPEN),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expand_queries():
    with open(os.path.join(SHARED, "compliance", "promql-test-queries.yml")) as f:
        cases = yaml.safe_load(f)["test_cases"]
    with open(os.path.join(SHARED, "compliance", "variants.yml")) as f:
        variants = yaml.safe_load(f)
    out = []
    for case in cases:
        args = case.get("variant_args") or []
        for combo in itertools.product(*[variants[a] for a in args]):
            q = case["query"]
            for name, value in zip(args, combo):
                q = q.replace("{{." + name + "}}", value)
            out.append({
                "query": q,
                "should_fail": bool(case.get("should_fail")),
                "skip_comparison": bool(case.get("skip_comparison")),
            })
    return out


class Server:
    """A Prometheus-API server process on a free loopback port."""

    def __init__(self, name, argv_fn, workdir):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, f"{name}.log"), "w")
        self.proc = subprocess.Popen(argv_fn(self.port), stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log.name}")

    def api(self, path, params):
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, {"status": "error", "error": body.decode(errors="replace")}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def prometheus_argv(data_dir, config):
    return lambda port: [
        "/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
        "--web.enable-remote-write-receiver", "--log.level=warn",
    ]


def kiln_argv(binary, data_dir, config):
    return lambda port: [
        binary, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
        "--web.enable-remote-write-receiver", "--log.level=warn",
    ]


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


# --- comparison -------------------------------------------------------------------------

def values_equal(a, b):
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if x == y:
        return True
    return abs(x - y) <= REL_TOLERANCE * min(abs(x), abs(y))


def normalise(result):
    """Turns a query's data into a comparable form: sorted series of (labels, points)."""
    rtype, res = result["resultType"], result["result"]
    if rtype in ("scalar", "string"):
        return rtype, [((), [tuple(res)])]
    out = []
    for s in res:
        labels = tuple(sorted(s.get("metric", {}).items()))
        points = [tuple(p) for p in (s.get("values") or [s["value"]] if "value" in s else s.get("values", []))]
        out.append((labels, points))
    out.sort(key=lambda x: x[0])
    # A range query's matrix and an instant query's vector compare alike.
    return ("vector" if rtype in ("vector", "matrix") else rtype), out


def compare(ref, got):
    """Returns None when the two API answers agree, else a reason."""
    (rs, rb), (gs, gb) = ref, got
    ref_err = rb.get("status") != "success"
    got_err = gb.get("status") != "success"
    if ref_err or got_err:
        if ref_err and got_err:
            return None
        return "error mismatch"
    rt, rser = normalise(rb["data"])
    gt, gser = normalise(gb["data"])
    if rt != gt:
        return f"result type {rt} vs {gt}"
    if [s[0] for s in rser] != [s[0] for s in gser]:
        return "label sets differ"
    for (labels, rp), (_, gp) in zip(rser, gser):
        if len(rp) != len(gp):
            return f"{dict(labels)}: {len(rp)} vs {len(gp)} points"
        for (rt_, rv), (gt_, gv) in zip(rp, gp):
            if abs(float(rt_) - float(gt_)) > 1e-6:
                return f"{dict(labels)}: timestamp {rt_} vs {gt_}"
            if isinstance(rv, str) and isinstance(gv, str) and rt == "string":
                if rv != gv:
                    return f"string {rv!r} vs {gv!r}"
            elif not values_equal(rv, gv):
                return f"{dict(labels)} @ {rt_}: {rv} vs {gv}"
    return None


def shorten(body, limit=600):
    s = json.dumps(body, sort_keys=True)
    return s if len(s) <= limit else s[:limit] + "…"


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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--target", choices=["kiln", "prometheus"], default="kiln",
                    help="system under test (prometheus = harness self-check)")
    ap.add_argument("--slice", type=int, default=0,
                    help="run only every N-th expanded query (a fast slice for make test)")
    ap.add_argument("--grep", default="", help="run only queries containing this text")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    if not os.path.exists("/usr/bin/prometheus"):
        print("SKIP compliance: /usr/bin/prometheus not installed; run scripts/install-deps.sh")
        return 77
    if not os.path.isdir(os.path.join(SHARED, "compliance")):
        print(f"SKIP compliance: {SHARED}/compliance not found (set KILN_SHARED_DIR)")
        return 77
    work = tempfile.mkdtemp(prefix="kiln-compliance-")
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
        ref = Server("prometheus", prometheus_argv(ref_dir, config), work)
        servers.append(ref)
        tgt_dir = os.path.join(work, "target")
        if args.target == "prometheus":
            target = Server("target", prometheus_argv(tgt_dir, config), work)
        else:
            target = Server("kiln", kiln_argv(os.path.join(args.build_dir, "bin", "kiln"), tgt_dir, config), work)
        servers.append(target)
        ref.wait_ready()
        target.wait_ready()
        remote_write_window(target.url)

        queries = expand_queries()
        if args.grep:
            queries = [q for q in queries if args.grep in q["query"]]
        if args.slice > 1:
            queries = queries[:: args.slice]
        print(f"{len(queries)} queries, each as 1 range and {len(INSTANT_TIMES_S)} instant queries")
        passed, failed = run_queries(ref, target, queries, args.verbose)
        print(f"compliance: {passed} passed, {failed} failed")
        return 0 if failed == 0 else 1
    finally:
        for s in servers:
            s.stop()
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
