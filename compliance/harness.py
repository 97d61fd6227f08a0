"""What the backfilled suite (run.py) and the live check (live.py) share: the expanded query
list, the 3.x query tweaks, server processes on free loopback ports (the end-to-end tests'
e2e_lib.Server) and the comparison rules of upstream's compliance tester."""

import itertools
import json
import math
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import e2e_lib  # noqa: E402
SHARED = os.environ.get("KILN_SHARED_DIR", os.path.join(ROOT, "..", "shared"))

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


class Server(e2e_lib.Server):
    """A Prometheus-API server process on a free loopback port, logging to <name>.log in
    `workdir`; argv_fn maps the port to its command line. wait_ready() raises
    e2e_lib.ServerError, a RuntimeError."""

    def __init__(self, name, argv_fn, workdir):
        super().__init__(argv_fn, os.path.join(workdir, f"{name}.log"), name=name)

    def api(self, path, params, method="POST"):
        """(HTTP status, decoded JSON body); POST form-encodes params, GET puts them in the
        URL (endpoints such as /api/v1/label/<name>/values take only GET)."""
        data = urllib.parse.urlencode(params)
        if method == "GET":
            req = urllib.request.Request(self.url + path + "?" + data, method="GET")
        else:
            req = urllib.request.Request(self.url + path, data=data.encode(), method="POST")
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


def outcome_diff(rb, gb):
    """For two API answer bodies: "error mismatch" when exactly one failed, "" when both
    failed (nothing more to compare), None when both succeeded."""
    ref_err = rb.get("status") != "success"
    got_err = gb.get("status") != "success"
    if ref_err or got_err:
        return "" if ref_err and got_err else "error mismatch"
    return None


def shape_diff(rdata, gdata):
    """(reason or None, result type, reference series, target series) of two successful
    answers' data, normalised; the reason says how their types or label sets differ."""
    rt, rser = normalise(rdata)
    gt, gser = normalise(gdata)
    if rt != gt:
        return f"result type {rt} vs {gt}", rt, rser, gser
    if [s[0] for s in rser] != [s[0] for s in gser]:
        return "label sets differ", rt, rser, gser
    return None, rt, rser, gser


def compare(ref, got):
    """Returns None when the two API answers agree, else a reason."""
    (_, rb), (_, gb) = ref, got
    reason = outcome_diff(rb, gb)
    if reason is not None:
        return reason or None
    reason, rt, rser, gser = shape_diff(rb["data"], gb["data"])
    if reason:
        return reason
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
