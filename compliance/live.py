"""The compliance suite's live check: Kiln and Prometheus 2.42 scrape the same running exporter.

Both servers get the same prometheus.yml: one job "demo" scraping the three instances of
exporter.DemoExporter, each given upstream's instance name (demo.promlabs.com:1000x) by a
static_configs label, so the suite's queries run unchanged. Instance :10000 answers in
OpenMetrics to a scraper asking for it, the others in the text format (exporter.py). A run
of 150 s or more scrapes every 5 s (upstream's interval), a shorter one every 2 s. Once both
servers report all three targets up (t0), the harness plays a schedule:

    t0 + 1/5 L   demo_intermittent_metric disappears  (one stale marker per instance; none
                 for its copy with explicit timestamps on :10001, which stays visible)
    t0 + 2/5 L   instance :10002 fails (HTTP 503)     (up 0; stale markers for all its series)
    t0 + 3/5 L   demo_intermittent_metric comes back
    t0 + 4/5 L   instance :10002 recovers
    t0 + L       the exporter freezes: no value changes any more
    t0 + L + F   queries are evaluated (time T, a little before "now")

What is compared, and why only that — the two servers scrape at their own instants (each
picks its own offset inside the interval), so a sample's timestamp, and any value that
depends on when it was taken, differs between them:

1. Timeline: range queries over [t0, T] at a 0.5 s step for up, scrape_samples_scraped,
   both intermittent metrics, demo_num_cpus and the series count per instance. At every step
   outside an uncertainty window around a schedule event, the two answers must be the same
   series with the same values. A window runs from PRE_SLACK_S before a switch to one scrape
   interval plus POST_SLACK_S after it: within it one server may already have scraped the
   new state and the other not. Outside it both must show the same presence, so a server
   that wrote no stale marker (and kept a vanished series for the 5 m lookback) fails here.
   The reference must itself show the metric gone and up == 0 (the check cannot pass
   vacuously).
2. The expanded query suite as instant queries at T, each in one of three classes
   (classify() documents the rules): exact values within 1e-5 when every sample it reads was
   scraped after the freeze (except timestamp() and sample counts over a range that is not
   a multiple of the interval: labels only); the same series (labels only) when it reads
   older samples; only the same error/no-error outcome when a range is shorter than two
   scrape intervals (whether such a window holds 0, 1 or 2 samples depends on each server's
   scrape phase) or when an offset makes it read the instant the servers started scraping
   or a schedule switch. scrape_duration_seconds is each server's own measurement: its
   series compare by labels. The 3.x query tweaks of harness.TWEAKS_3X apply here too.
   The by-value queries (except counts over a range) also run as range queries over the
   part of the freeze where every step reads frozen samples only.
3. Metadata and discovery: /api/v1/series, labels, label values, metadata, targets/metadata,
   the head's cardinality (/api/v1/status/tsdb) and the comparable fields of /api/v1/targets
   must match, the latter also while the instance fails (health and lastError).
4. Cadence, from the exporter's side: each server scraped each instance once per interval.
5. Runs: the sequence of distinct values each report series (up, scrape_samples_scraped,
   scrape_samples_post_metric_relabeling, scrape_series_added) went through since t0, per
   instance, from raw samples; the number of samples differs, the sequence must not.
"""

import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
from exporter import DemoExporter  # noqa: E402
from harness import (TWEAKS_3X, Server, outcome_diff, shape_diff, shorten,  # noqa: E402
                     values_equal)

PRE_SLACK_S = 1.0  # a scrape stamped just before a switch can reach the exporter just after
POST_SLACK_S = 1.5  # a scrape can start late on a loaded machine
STEP_S = 0.5
FAILING_INSTANCE = 2
# Series every failed scrape still writes (Prometheus's report series).
REPORT_SERIES = 5
# A server's own measurement, different on every scrape of every server.
PER_SERVER_NAMES = {"scrape_duration_seconds"}
TIMELINE_QUERIES = [
    "up",
    "scrape_samples_scraped",
    "demo_intermittent_metric",
    "demo_intermittent_timestamped_metric",
    "demo_num_cpus",
    'count by (instance) ({job="demo"})',
]
# Queries run at T beside the suite: the scrape's report series and counts that need the
# freeze (count_over_time over a range that is a multiple of the interval is exact).
EXTRA_QUERIES = [
    "up",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "scrape_duration_seconds",
    'count by (instance) ({job="demo"})',
    'count by (__name__) ({job="demo"})',
    "count_over_time(up[14s])",  # exact in the 2 s short mode
    "count_over_time(up[15s])",  # exact at 5 s
    "count_over_time(demo_num_cpus[1m])",
    "sum_over_time(scrape_samples_scraped[1m])",
    "changes(demo_cpu_usage_seconds_total[15s])",
    "demo_items_shipped_total",
    "demo_api_request_duration_seconds_count",
    "histogram_quantile(0.9, demo_api_request_duration_seconds_bucket)",
]

VALUES, LABELS, OUTCOME = "values", "labels", "outcome"
_DURATION_RE = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_RANGE_RE = re.compile(r"\[([0-9a-z]+)(?::([0-9a-z]*))?\]")
_OFFSET_RE = re.compile(r"offset\s+(-?)([0-9a-z]+)")
_COUNTING_RE = re.compile(r"\b(count_over_time|sum_over_time)\b")


def parse_duration(text):
    total, pos = 0.0, 0
    for m in _DURATION_RE.finditer(text):
        if m.start() != pos:
            raise ValueError(f"bad duration {text!r}")
        total += int(m.group(1)) * _UNIT_S[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"bad duration {text!r}")
    return total


def _reach(query):
    """(ranges, how far back its offsets move it, how far back it reads) of a query, in
    seconds. A negative offset reads the future (samples scraped after T, all frozen): 0."""
    ranges = [parse_duration(m.group(1)) for m in _RANGE_RE.finditer(query)]
    offsets = [parse_duration(m.group(2)) for m in _OFFSET_RE.finditer(query) if not m.group(1)]
    return ranges, sum(offsets), sum(offsets) + sum(ranges)


def frozen_from(reach, frozen_at, interval_s):
    """The first evaluation time at which a query reaching `reach` back reads only samples
    both servers scraped after the freeze."""
    return frozen_at + reach + interval_s + PRE_SLACK_S + POST_SLACK_S


def classify(query, t_eval, frozen_at, interval_s, uncertain):
    """Says how a query's answers at t_eval compare, and why. Reading the query's text is
    conservative: every range and positive offset in it counts toward how far back it reads,
    as if nested. uncertain(t) says whether the two servers may legitimately see different
    series at t (Schedule.uncertain_for_ranges)."""
    ranges, back, reach = _reach(query)
    if any(r < 2 * interval_s for r in ranges):
        return OUTCOME, ("a range shorter than two scrape intervals holds 0, 1 or 2 samples "
                         "depending on each server's scrape phase")
    if t_eval >= frozen_from(reach, frozen_at, interval_s):
        if "timestamp(" in query:
            return LABELS, "timestamps are each server's own scrape instants"
        if _COUNTING_RE.search(query) and any(r % interval_s for r in ranges):
            return LABELS, ("the number of samples in a range that is not a multiple of the "
                            "interval depends on the scrape phase")
        return VALUES, ""
    if uncertain(t_eval - back):
        return OUTCOME, ("reads the moment the servers started scraping or a schedule switch, "
                         "where each server's view depends on its scrape phase")
    return LABELS, "reads samples from before the freeze, taken at different instants"


def compare_live(ref, got, mode):
    """None when the two API answers agree under the given comparison class, else a reason."""
    (_, rb), (_, gb) = ref, got
    reason = outcome_diff(rb, gb)
    if reason is not None or mode == OUTCOME:
        return reason or None
    reason, rt, rser, gser = shape_diff(rb["data"], gb["data"])
    if reason or mode == LABELS:
        return reason
    for (labels, rp), (_, gp) in zip(rser, gser):
        if len(rp) != len(gp):
            return f"{dict(labels)}: {len(rp)} vs {len(gp)} points"
        if [float(p[0]) for p in rp] != [float(p[0]) for p in gp]:
            return f"{dict(labels)}: the points' times differ"
        if dict(labels).get("__name__") in PER_SERVER_NAMES:
            continue
        for (_, rv), (_, gv) in zip(rp, gp):
            if rt == "string":
                if rv != gv:
                    return f"string {rv!r} vs {gv!r}"
            elif not values_equal(rv, gv):
                return f"{dict(labels)}: {rv} vs {gv}"
    return None


def write_config(path, addresses, interval_s):
    lines = [
        "global:",
        f"  scrape_interval: {interval_s}s",
        f"  scrape_timeout: {interval_s}s",
        "scrape_configs:",
        "  - job_name: demo",
        "    static_configs:",
    ]
    for addr, name in zip(addresses, demo.INSTANCES):
        lines += [f'      - targets: ["{addr}"]', f'        labels: {{instance: "{name}"}}']
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Schedule:
    """The switches played on the exporter and the uncertainty window after each."""

    def __init__(self, interval_s):
        self.interval_s = interval_s
        self.events = []  # (name, time before the switch, time after it)
        self.started = self.t0 = self.frozen_at = math.inf  # set by run_live as it goes

    def play(self, name, at, action):
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        before = time.time()
        action()
        after = time.time()
        self.events.append((name, before, after))
        print(f"live: t0{before - self.t0:+.1f}s {name}")

    def uncertain(self, t):
        """Whether at t one server may show a switch's new state and the other not yet."""
        return any(b - PRE_SLACK_S < t <= a + self.interval_s + POST_SLACK_S
                   for _, b, a in self.events)

    def uncertain_for_ranges(self, t):
        """For a selector evaluated at t (an offset's target): wider than uncertain(), by
        an interval, since a range ending near a switch may hold two samples of a series on
        one server and fewer on the other; and true between the servers' start and t0 plus
        two intervals, as each server first scraped each target at its own offset (before the
        servers started both have nothing, which is certain)."""
        if self.started <= t < self.t0 + 2 * self.interval_s + POST_SLACK_S:
            return True
        return any(b - PRE_SLACK_S - self.interval_s < t <= a + 2 * self.interval_s + POST_SLACK_S
                   for _, b, a in self.events)

    def phase(self, name):
        """(start, end) of the certain part of the phase that the named switch opens."""
        names = [e[0] for e in self.events]
        i = names.index(name)
        start = self.events[i][2] + self.interval_s + POST_SLACK_S
        end = self.events[i + 1][1] - PRE_SLACK_S if i + 1 < len(self.events) else math.inf
        return start, end


def _api(server, path, params, method="POST"):
    status, body = server.api(path, params, method)
    if body.get("status") != "success":
        raise RuntimeError(f"{server.name} {path} {params}: {status} {shorten(body)}")
    return body["data"]


def wait_target_down(servers, instance, until):
    """Polls until every server reports the target of `instance` down, at most until the
    time `until`: a busy machine may scrape it later than the schedule's slack allows."""
    def down(s):
        data = _api(s, "/api/v1/targets", {"state": "active"}, "GET")
        return any(t["labels"].get("instance") == instance and t["health"] == "down"
                   for t in data["activeTargets"])
    while time.time() < until and not all(down(s) for s in servers):
        time.sleep(0.25)


def wait_all_up(servers, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ok = True
        for s in servers:
            _, body = s.api("/api/v1/query", {"query": "count(up == 1)"})
            res = body.get("data", {}).get("result", []) if body.get("status") == "success" else []
            ok = ok and bool(res) and float(res[0]["value"][1]) == n
        if ok:
            return
        time.sleep(0.25)
    raise RuntimeError(f"not all {n} targets up on both servers after {timeout}s")


def _by_step(matrix):
    """{step time: {labels: value}} from a range query's matrix."""
    out = {}
    for s in matrix:
        labels = tuple(sorted(s["metric"].items()))
        for t, v in s["values"]:
            out.setdefault(round(float(t), 3), {})[labels] = v
    return out


def timeline_diff(ref_steps, got_steps, checked):
    """The checked steps at which two _by_step() answers differ, as (t, ref, got)."""
    bad = []
    for t in checked:
        r, g = ref_steps.get(t, {}), got_steps.get(t, {})
        if r.keys() != g.keys() or not all(values_equal(r[k], g[k]) for k in r):
            bad.append((t, r, g))
    return bad


def self_check(seen, sched, checked):
    """What the reference fails to show of the schedule, in the certain part of each phase
    (seen maps a timeline query to the reference's _by_step() answer). Without this the
    timeline comparison could pass without exercising staleness."""
    failing = ("instance", demo.INSTANCES[FAILING_INSTANCE])
    n = len(demo.INSTANCES)
    probes = [
        ("demo_intermittent_metric", "intermittent off",
         lambda step: not step, "the intermittent metric gone after its stale marker"),
        ("demo_intermittent_timestamped_metric", "intermittent off",
         lambda step: len(step) == 1,
         "the timestamped intermittent metric still there (no stale marker)"),
        ("up", "instance fails",
         lambda step: any(failing in k and float(v) == 0 for k, v in step.items()),
         "up == 0 for the failing instance"),
        ('count by (instance) ({job="demo"})', "instance fails",
         lambda step: any(failing in k and float(v) == REPORT_SERIES for k, v in step.items()),
         f"only the {REPORT_SERIES} report series left for the failing instance"),
        ("demo_intermittent_metric", "intermittent on",
         lambda step: len(step) == n - 1 and not any(failing in k for k in step),
         "the intermittent metric back on the instances that are up"),
        ("demo_intermittent_metric", "instance recovers",
         lambda step: len(step) == n, "the intermittent metric on all instances"),
        ("up", "instance recovers",
         lambda step: len(step) == n and all(float(v) == 1 for v in step.values()),
         "every instance up again"),
    ]
    missing = []
    for q, phase, pred, what in probes:
        lo, hi = sched.phase(phase)
        ts = [t for t in checked if lo < t < hi]
        if not ts or not all(pred(seen[q].get(t, {})) for t in ts):
            missing.append(f"{what} ({len(ts)} steps in the phase)")
    return missing


# The scrape's report series whose runs of equal values check_report_runs() compares.
REPORT_RUN_SERIES = ["up", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
                     "scrape_series_added"]


def value_runs(matrix):
    """{labels: values with consecutive repeats collapsed} of a range selector's raw samples.
    Two servers scrape at their own instants and so hold different numbers of samples, but
    the sequence of values they went through is the same."""
    out = {}
    for s in matrix:
        runs = []
        for _, v in s["values"]:
            if not runs or runs[-1] != v:
                runs.append(v)
        out[tuple(sorted(s["metric"].items()))] = runs
    return out


def check_report_runs(ref, target, t0, t_eval):
    """Every scrape's report series went through the same values on both servers since t0:
    up 1 -> 0 -> 1 for the failing instance, scrape_samples_scraped with and without the
    intermittent metric, and scrape_series_added, which counts the series a scrape adds to
    its cache (the intermittent metric's return, what a target's recovery re-adds).
    Returns (passed, failed)."""
    window = f"{int((t_eval - t0) * 1000)}ms"
    passed = failed = 0
    for name in REPORT_RUN_SERIES:
        q = f"{name}[{window}]"
        r = value_runs(_api(ref, "/api/v1/query", {"query": q, "time": t_eval})["result"])
        g = value_runs(_api(target, "/api/v1/query", {"query": q, "time": t_eval})["result"])
        if r == g:
            passed += 1
            print(f"PASS live runs of {name}")
        else:
            failed += 1
            print(f"FAIL live runs of {name} since t0 differ")
            for k in sorted(set(r) | set(g)):
                if r.get(k) != g.get(k):
                    print(f"  {dict(k)}: prometheus {r.get(k)}, kiln {g.get(k)}")
    return passed, failed


def check_timeline(ref, target, sched, t0, t_end):
    """Part 1 of the module comment. Returns (passed, failed)."""
    passed = failed = 0
    steps = [round(t0 + i * STEP_S, 3) for i in range(int((t_end - t0) / STEP_S) + 1)]
    checked = [t for t in steps if not sched.uncertain(t)]
    seen = {}
    for q in TIMELINE_QUERIES:
        params = {"query": q, "start": t0, "end": t_end, "step": STEP_S}
        rm = _by_step(_api(ref, "/api/v1/query_range", params)["result"])
        gm = _by_step(_api(target, "/api/v1/query_range", params)["result"])
        seen[q] = rm
        bad = timeline_diff(rm, gm, checked)
        if bad:
            failed += 1
            t, r, g = bad[0]
            print(f"FAIL live timeline {q}: {len(bad)} of {len(checked)} steps differ; first at "
                  f"t0{t - t0:+.1f}s")
            print(f"  prometheus: {_fmt_step(r)}")
            print(f"  kiln:       {_fmt_step(g)}")
        else:
            passed += 1
            print(f"PASS live timeline {q} ({len(checked)} of {len(steps)} steps compared)")
    missing = self_check(seen, sched, checked)
    for what in missing:
        print(f"FAIL live self-check: prometheus does not show {what}")
    if not missing:
        print("PASS live self-check: prometheus shows every switch of the schedule")
    return passed + (0 if missing else 1), failed + len(missing)


def _fmt_step(step):
    return "{" + ", ".join(f"{dict(k)}: {v}" for k, v in sorted(step.items())) + "}"


def pick_eval_time(servers, interval_s, not_before):
    """A time T, late in the freeze, clear of every server's scrape instants (modulo the
    interval) by a margin. No sample then sits near T, T - 5m (the lookback, where 2.x's
    closed and 3.x's left-open windows differ) or either end of a range that is a multiple
    of the interval, so sample counts over such ranges agree between the servers."""
    phases = []
    for s in servers:
        data = _api(s, "/api/v1/query", {"query": 'up{job="demo"}[1m]'})
        for series in data["result"]:
            phases += [float(t) % interval_s for t, _ in series["values"]]
    # Six scrape phases (3 targets x 2 servers) cannot block every T at the smaller margin.
    for margin in (0.2, 0.1):
        t = round(time.time() - 1.0, 3)
        while t > not_before:
            if all(min((t - p) % interval_s, (p - t) % interval_s) >= margin for p in phases):
                return t
            t = round(t - 0.01, 3)
    raise RuntimeError("no evaluation time clear of every scrape instant")


def check_suite(ref, target, queries, t_eval, sched, verbose):
    """Part 2 of the module comment. Returns (passed, failed)."""
    passed = failed = 0
    counts = {VALUES: 0, LABELS: 0, OUTCOME: 0}
    cases = queries + [{"query": q, "should_fail": False, "skip_comparison": False}
                       for q in EXTRA_QUERIES]
    for case in cases:
        q = case["query"]
        ref_q, kiln_q, _ = TWEAKS_3X.get(q, (q, q, ""))
        mode, why = classify(q, t_eval, sched.frozen_at, sched.interval_s,
                             sched.uncertain_for_ranges)
        counts[mode] += 1
        r = ref.api("/api/v1/query", {"query": ref_q, "time": t_eval})
        g = target.api("/api/v1/query", {"query": kiln_q, "time": t_eval})
        reason = compare_live(r, g, mode)
        if case["should_fail"] and r[1].get("status") == "success":
            reason = reason or "reference did not fail on a should_fail query"
        if case["skip_comparison"] and reason and reason != "error mismatch":
            reason = None
        if reason is None:
            passed += 1
            if verbose:
                print(f"PASS live [{mode}] {q}" + (f" ({why})" if why else ""))
        else:
            failed += 1
            print(f"FAIL live [{mode}] {q}: {reason}")
            print(f"  prometheus: {shorten(r[1])}")
            print(f"  kiln:       {shorten(g[1])}")
    print(f"live: suite at T compared {counts[VALUES]} by value, {counts[LABELS]} by series, "
          f"{counts[OUTCOME]} by outcome")
    p, f = check_suite_range(ref, target, cases, t_eval, sched, verbose)
    return passed + p, failed + f


def check_suite_range(ref, target, cases, t_eval, sched, verbose):
    """The by-value queries of the suite also as range queries, over the part of the freeze
    in which every step reads frozen samples only, at half the scrape interval. Counts over
    a range are left out: steps, unlike T, fall anywhere against the scrape instants."""
    step = sched.interval_s / 2
    passed = failed = ran = 0
    for case in cases:
        q = case["query"]
        mode, _ = classify(q, t_eval, sched.frozen_at, sched.interval_s, sched.uncertain_for_ranges)
        if mode != VALUES or _COUNTING_RE.search(q) or case["skip_comparison"]:
            continue
        start = round(frozen_from(_reach(q)[2], sched.frozen_at, sched.interval_s) + 0.001, 3)
        if t_eval - start < step:
            continue
        ran += 1
        ref_q, kiln_q, _ = TWEAKS_3X.get(q, (q, q, ""))
        params = {"start": start, "end": t_eval, "step": step}
        r = ref.api("/api/v1/query_range", dict(params, query=ref_q))
        g = target.api("/api/v1/query_range", dict(params, query=kiln_q))
        reason = compare_live(r, g, VALUES)
        if reason is None:
            passed += 1
            if verbose:
                print(f"PASS live range {q}")
        else:
            failed += 1
            print(f"FAIL live range {q} (start {start}, end {t_eval}, step {step}): {reason}")
            print(f"  prometheus: {shorten(r[1])}")
            print(f"  kiln:       {shorten(g[1])}")
    print(f"live: {ran} of them also as range queries over the freeze, by value")
    return passed, failed


def _sorted_json(x):
    if isinstance(x, list):
        return sorted((_sorted_json(v) for v in x), key=repr)
    if isinstance(x, dict):
        return {k: _sorted_json(v) for k, v in x.items()}
    return x


def _targets(data):
    # Fields that describe a target, not one scrape of it (lastScrape, its duration and
    # globalUrl, which carries the host name, are left out).
    keep = ("discoveredLabels", "labels", "scrapePool", "scrapeUrl", "health", "lastError",
            "scrapeInterval", "scrapeTimeout")
    return sorted(({k: t.get(k) for k in keep} for t in data["activeTargets"]), key=repr)


def _tsdb_status(data):
    # The head's counts, not its minTime/maxTime (each server's own scrape instants); for each
    # top-10 list its values in order and the names above its lowest value: Prometheus orders
    # ties arbitrarily, and a tie at the cut decides which names make the list.
    out = {k: data["headStats"][k] for k in ("numSeries", "numLabelPairs", "chunkCount")}
    for key in ("seriesCountByMetricName", "labelValueCountByLabelName",
                "memoryInBytesByLabelName", "seriesCountByLabelValuePair"):
        entries = data.get(key) or []
        low = min((e["value"] for e in entries), default=0)
        out[key] = ([e["value"] for e in entries],
                    sorted(e["name"] for e in entries if e["value"] > low))
    return out


def fetch_pair(ref, target, path, params, norm):
    """Both servers' normalised answers; the target's is an error string when it fails."""
    r = norm(_api(ref, path, params, "GET"))
    try:
        g = norm(_api(target, path, params, "GET"))
    except (RuntimeError, KeyError, TypeError) as e:
        g = f"error: {e}"
    return r, g


def check_api(ref, target, t0, t_eval, earlier):
    """Part 3 of the module comment; earlier holds (name, ref answer, target answer) fetched
    during the schedule. Returns (passed, failed)."""
    window = {"start": t0, "end": t_eval}
    checks = [
        ("/api/v1/series", dict(window, **{"match[]": '{job="demo"}'}), _sorted_json),
        ("/api/v1/labels", window, _sorted_json),
        ("/api/v1/label/__name__/values", window, _sorted_json),
        ("/api/v1/label/instance/values", window, _sorted_json),
        ("/api/v1/metadata", {}, _sorted_json),
        ("/api/v1/targets/metadata", {"match_target": '{job="demo"}'}, _sorted_json),
        ("/api/v1/targets", {"state": "active"}, _targets),
        ("/api/v1/status/tsdb", {}, _tsdb_status),
    ]
    answers = list(earlier)
    answers += [(path, *fetch_pair(ref, target, path, params, norm))
                for path, params, norm in checks]
    passed = failed = 0
    for name, r, g in answers:
        if r == g:
            passed += 1
            print(f"PASS live {name}")
        else:
            failed += 1
            print(f"FAIL live {name}: answers differ")
            r, g = _only_differences(r, g)
            print(f"  prometheus: {shorten(r, 1500)}")
            print(f"  kiln:       {shorten(g, 1500)}")
    return passed, failed


def _only_differences(r, g):
    """What two answers do not share, so that a long answer's difference shows."""
    if isinstance(r, dict) and isinstance(g, dict):
        keys = [k for k in sorted(set(r) | set(g)) if r.get(k) != g.get(k)]
        return ({k: r[k] for k in keys if k in r}, {k: g[k] for k in keys if k in g})
    if isinstance(r, list) and isinstance(g, list):
        return [x for x in r if x not in g], [x for x in g if x not in r]
    return r, g


def check_cadence(scrape_log, t0, t_eval, interval_s):
    """Part 4 of the module comment: every scraper (told apart by User-Agent) scraped every
    instance once per interval over [t0, T], with no gap and no extra scrapes. The freeze
    would otherwise hide a scrape loop that stalls late in the run, as its last sample stays
    within the lookback. Returns (passed, failed)."""
    by = {}
    for t, index, agent in scrape_log:
        if t0 <= t <= t_eval:
            by.setdefault(agent, {}).setdefault(index, []).append(t)
    if len(by) != 2:
        print(f"live: cadence not checked: {len(by)} User-Agents for 2 servers")
        return 0, 0
    passed = failed = 0
    expected = (t_eval - t0) / interval_s
    for agent, per_instance in sorted(by.items()):
        for index in range(len(demo.INSTANCES)):
            ts = per_instance.get(index, [])
            gaps = [b - a for a, b in zip(ts, ts[1:])]
            worst = max(gaps, default=math.inf)
            if abs(len(ts) - expected) <= 1.5 and worst <= 1.5 * interval_s + POST_SLACK_S:
                passed += 1
            else:
                failed += 1
                print(f"FAIL live cadence: {agent!r} scraped {demo.INSTANCES[index]} {len(ts)} "
                      f"times in {t_eval - t0:.0f}s at a {interval_s}s interval, longest gap "
                      f"{worst:.1f}s")
    if not failed:
        print(f"PASS live cadence: both servers scraped every instance every {interval_s}s")
    return passed, failed


def run_live(ref_argv, target_name, target_argv, work, queries, seconds, verbose=False):
    """Plays the live check for about `seconds` (module comment) and returns (passed,
    failed). ref_argv and target_argv map (data dir, config) to a server's argv function."""
    # A run of at least 150 s scrapes at upstream's 5 s and freezes long enough for 1 m
    # ranges to read frozen samples only; a shorter run scrapes every 2 s and covers 15 s.
    interval_s = 5 if seconds >= 150 else 2
    cover_s = 60 if seconds >= 150 else 15
    freeze_s = cover_s + interval_s + PRE_SLACK_S + POST_SLACK_S + 2
    live_s = seconds - freeze_s
    if live_s < 5 * (interval_s + PRE_SLACK_S + POST_SLACK_S + 1):
        raise ValueError(f"--live-seconds {seconds} is too short for the schedule")
    exporter = DemoExporter()
    exporter.start()
    servers = []
    sched = Schedule(interval_s)
    passed = failed = 0
    try:
        config = os.path.join(work, "live.yml")
        write_config(config, exporter.addresses(), interval_s)
        sched.started = time.time()
        ref = Server("prometheus-live", ref_argv(os.path.join(work, "live-ref"), config), work)
        servers.append(ref)
        target = Server(f"{target_name}-live",
                        target_argv(os.path.join(work, "live-target"), config), work)
        servers.append(target)
        ref.wait_ready()
        target.wait_ready()
        wait_all_up(servers, len(demo.INSTANCES))
        t0 = round(time.time(), 3)
        print(f"live: both servers scrape {len(demo.INSTANCES)} targets every {interval_s}s; "
              f"schedule over {live_s:.0f}s, then {freeze_s:.0f}s frozen")
        sched.t0 = t0
        step = live_s / 5
        sched.play("intermittent off", t0 + step, lambda: exporter.set_intermittent(False))
        sched.play("instance fails", t0 + 2 * step,
                   lambda: exporter.set_failing(FAILING_INSTANCE, True))
        # Once both servers have scraped the failing instance, its target is down with the
        # same error on both (Prometheus's: "server returned HTTP status 503 ...").
        time.sleep(max(0.0, sched.phase("instance fails")[0] + 0.5 - time.time()))
        wait_target_down(servers, demo.INSTANCES[FAILING_INSTANCE], t0 + 4 * step - PRE_SLACK_S)
        earlier = [("/api/v1/targets while an instance fails",
                    *fetch_pair(ref, target, "/api/v1/targets", {"state": "active"}, _targets))]
        sched.play("intermittent on", t0 + 3 * step, lambda: exporter.set_intermittent(True))
        sched.play("instance recovers", t0 + 4 * step,
                   lambda: exporter.set_failing(FAILING_INSTANCE, False))
        sched.play("freeze", t0 + live_s, exporter.freeze)
        frozen_at = sched.events[-1][2]
        sched.frozen_at = frozen_at
        time.sleep(max(0.0, frozen_at + freeze_s - time.time()))
        t_eval = pick_eval_time(servers, interval_s,
                                frozen_at + interval_s + PRE_SLACK_S + POST_SLACK_S)
        print(f"live: evaluating at t0{t_eval - t0:+.1f}s, {t_eval - frozen_at:.1f}s into the "
              f"freeze; exporter served {sum(exporter.scrapes())} scrapes")
        for (agent, accept), n in sorted(exporter.requests().items()):
            print(f"live:   {n} scrapes by {agent!r}, Accept: {accept}")
        # A negative offset reads samples scraped after T: wait until both servers have
        # scraped every target since T, so that both have some (all frozen, all equal).
        time.sleep(max(0.0, t_eval + interval_s + POST_SLACK_S - time.time()))

        totals = [check_timeline(ref, target, sched, t0, t_eval),
                  check_report_runs(ref, target, t0, t_eval),
                  check_suite(ref, target, queries, t_eval, sched, verbose),
                  check_api(ref, target, t0, t_eval, earlier),
                  check_cadence(exporter.scrape_log(), t0, t_eval, interval_s)]
        passed = sum(p for p, _ in totals)
        failed = sum(f for _, f in totals)
    except (OSError, RuntimeError) as e:
        # A server that dies or stops answering ends the run with its reason and log, not
        # with a traceback.
        passed, failed = 0, 1
        print(f"FAIL live: aborted: {e}")
    finally:
        for s in servers:
            died = s.proc.poll() is not None
            s.stop()
            if died:
                failed += 1
                print(f"FAIL live: {s.name} exited with {s.proc.returncode}; its log ends:")
                with open(s.log_path, errors="replace") as f:
                    for line in f.readlines()[-20:]:
                        print(f"  | {line.rstrip()}")
        exporter.stop()
    return passed, failed
