"""The compliance suite's live check: Kiln and Prometheus 2.42 scrape the same running exporter.

Both servers get the same prometheus.yml but for the exporter's ports: one job "demo"
scraping the three instances of exporter.DemoExporter, each given upstream's instance name
(demo.promlabs.com:1000x) by a static_configs label, so the suite's queries run unchanged.
Each server scrapes its own ports, so the exporter logs which server it served what.
Instance :10000 answers in OpenMetrics to a scraper asking for it, the others in the text
format (exporter.py). A run of 150 s or more scrapes every 5 s (upstream's interval), a
shorter one every 2 s. Once both servers report all three targets up (t0), the harness plays
a schedule:

    t0 + 1/5 L   demo_intermittent_metric disappears  (one stale marker per instance; none
                 for its copy with explicit timestamps on :10001, which stays visible)
    t0 + 2/5 L   instance :10002 fails (HTTP 503)     (up 0; stale markers for all its series)
    t0 + 3/5 L   demo_intermittent_metric comes back
    t0 + 4/5 L   instance :10002 recovers
    t0 + L       the exporter freezes: no value changes any more
    then         queries are evaluated (time T, late in the freeze)

A switch waits, if need be, until the previous one has been served to both servers on every
instance, so a slow machine stretches the schedule instead of skipping a phase.

What is compared, and why only that — the two servers scrape at their own instants (each
picks its own offset inside the interval), so a sample's timestamp, and any value that
depends on when it was taken, differs between them:

1. Each server against the pages it was served (served.py): its raw samples are those of the
   pages at the stamps of the scrapes that fetched them (values exact); at every 0.5 s step
   over [t0, T] up, scrape_samples_scraped, both intermittent metrics, demo_num_cpus and the
   series count per instance show exactly the last scrape's page (so a stale marker that is
   missing or late fails, and the copy with explicit timestamps must stay); at each stamp
   where a series appears or vanishes, and 1 ms before it, the instance's whole instant
   vector is the model's; and the scrape loop took every slot of its grid once (cadence).
   Where both servers were served the same page they must have stored the same samples, and
   each must have been served every phase of the schedule, which the reference's own answers
   must show (the intermittent metric gone, up == 0): the check cannot pass vacuously.
2. The expanded query suite as instant queries at T, each in one of three classes
   (classify() documents the rules): exact values within 1e-5 when every sample it reads was
   scraped after the freeze — measured: the latest first post-freeze request of any server
   and instance — (except timestamp() and sample counts over a range that is not a multiple
   of the interval: labels only); the same series (labels only) when it reads older samples;
   only the same error/no-error outcome when a range is shorter than two scrape intervals
   (whether such a window holds 0, 1 or 2 samples depends on each server's scrape phase) or
   when an offset makes it read around the servers' first scrapes or a schedule switch,
   measured from the stamps on both sides of it. scrape_duration_seconds is each server's own
   measurement: its series compare by labels. The 3.x query tweaks of harness.TWEAKS_3X apply
   here too. The by-value queries (except counts over a range) also run as range queries
   over the part of the freeze where every step reads frozen samples only.
3. Metadata and discovery: /api/v1/series, labels, label values, metadata, targets/metadata,
   the head's cardinality (/api/v1/status/tsdb) and the comparable fields of /api/v1/targets
   (the exporter's address aside) must match, the latter also while the instance fails
   (health and lastError).
4. Runs: the sequence of distinct values each report series (up, scrape_samples_scraped,
   scrape_samples_post_metric_relabeling, scrape_series_added) went through since t0, per
   instance, from raw samples; the number of samples differs, the sequence must not (when
   both servers stored the same sequence of outcomes: a scrape timing out on one is not a
   difference between them).
"""

import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
import served  # noqa: E402
from exporter import TIMESTAMPED, DemoExporter  # noqa: E402
from harness import (TWEAKS_3X, Server, outcome_diff, shape_diff, shorten,  # noqa: E402
                     values_equal)

STEP_S = 0.5
FAILING_INSTANCE = 2
# Series every failed scrape still writes (Prometheus's report series).
REPORT_SERIES = len(served.REPORT_NAMES)
# A server's own measurement, different on every scrape of every server.
PER_SERVER_NAMES = {"scrape_duration_seconds"}
# The exporter's clients: each server scrapes its own ports.
REF, TARGET = "reference", "target"
# Each timeline query, and how to compute its answer from the instant vector of
# {job="demo"} (served.view).
TIMELINE_QUERIES = {
    "up": served.select_name("up"),
    "scrape_samples_scraped": served.select_name("scrape_samples_scraped"),
    "demo_intermittent_metric": served.select_name("demo_intermittent_metric"),
    TIMESTAMPED: served.select_name(TIMESTAMPED),
    "demo_num_cpus": served.select_name("demo_num_cpus"),
    'count by (instance) ({job="demo"})': served.count_by_instance,
}
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


def frozen_from(reach, frozen_ready):
    """The first evaluation time at which a query reaching `reach` back reads only samples
    both servers scraped after the freeze: from `frozen_ready` on, measured from the
    exporter's log, every sample either server stamps fetched a frozen page."""
    return frozen_ready + reach


def classify(query, t_eval, frozen_ready, interval_s, uncertain):
    """Says how a query's answers at t_eval compare, and why. Reading the query's text is
    conservative: every range and positive offset in it counts toward how far back it reads,
    as if nested. uncertain(t) says whether the two servers may legitimately see different
    series at t (Schedule.uncertain_for_ranges)."""
    ranges, back, reach = _reach(query)
    if any(r < 2 * interval_s for r in ranges):
        return OUTCOME, ("a range shorter than two scrape intervals holds 0, 1 or 2 samples "
                         "depending on each server's scrape phase")
    if t_eval >= frozen_from(reach, frozen_ready):
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
    """The switches played on the exporter, and where (measured from both servers' stored
    scrapes) their views of a switch may differ."""

    def __init__(self, interval_s):
        self.interval_s = interval_s
        self.events = []  # (name, time before the switch, time after it)
        # Set by run_live as it goes: the servers' start, t0, the freeze, and the time from
        # which every sample either server stores is frozen.
        self.started = self.t0 = self.frozen_at = self.frozen_ready = math.inf
        self.zones = []  # [lo, hi] in s, set by measure()

    def play(self, name, at, action):
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        before = time.time()
        action()
        after = time.time()
        self.events.append((name, before, after))
        print(f"live: t0{before - self.t0:+.1f}s {name}")

    def measure(self, histories):
        """Sets the zones in which a selector's series may differ between the servers, from
        their served.History of every instance: from their start to the latest second
        scrape of any, and around each switch from an interval before the earliest last
        scrape served the old state to the latest second scrape served the new one (a range
        holding one sample of a series on one server may hold two on the other)."""
        iv = self.interval_s
        second = [h.stamps[1] / 1000 if len(h.stamps) > 1 else math.inf for h in histories]
        zones = [(self.started, max(second))]
        for _, before, after in self.events:
            olds, news = [], []
            for h in histories:
                times = [e.time if e else s / 1000 for s, e in zip(h.stamps, h.entries)]
                old = [s for s, t in zip(h.stamps, times) if t < before]
                new = [s for s, t in zip(h.stamps, times) if t > after]
                olds.append(old[-1] / 1000 if old else self.started)
                news.append(new[1] / 1000 if len(new) > 1 else math.inf)
            zones.append((min(olds) - iv, max(news)))
        self.zones = zones

    def uncertain_for_ranges(self, t):
        """Whether a selector evaluated at t (an offset's target) may see different series on
        the two servers."""
        return any(lo <= t <= hi for lo, hi in self.zones)


def _api(server, path, params, method="POST"):
    status, body = server.api(path, params, method)
    if body.get("status") != "success":
        raise RuntimeError(f"{server.name} {path} {params}: {status} {shorten(body)}")
    return body["data"]


def _poll(check, timeout, what):
    deadline = time.time() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.time() > deadline:
            raise RuntimeError(f"{what} after {timeout:.0f}s")
        time.sleep(0.1)


def wait_served(exporter, since, timeout):
    """Waits until the exporter has served every instance to every client after `since`;
    returns the time of the latest of those first requests."""
    def firsts():
        seen = {}
        for e in exporter.scrape_log():
            if e.time > since:
                seen.setdefault((e.client, e.index), e.time)
        return max(seen.values()) if len(seen) == len(exporter.clients) * len(demo.INSTANCES) \
            else None
    return _poll(firsts, timeout, "not every server scraped every instance")


def wait_target_down(servers, instance, timeout):
    """Waits until every server reports the target of `instance` down."""
    def down(s):
        data = _api(s, "/api/v1/targets", {"state": "active"}, "GET")
        return any(t["labels"].get("instance") == instance and t["health"] == "down"
                   for t in data["activeTargets"])
    _poll(lambda: all(down(s) for s in servers), timeout, f"{instance} not down on both servers")


def wait_scraped_since(servers, t, timeout):
    """Waits until every server has stored a scrape of every instance stamped after t."""
    def done():
        for s in servers:
            res = _api(s, "/api/v1/query", {"query": 'timestamp(up{job="demo"})'})["result"]
            if len(res) != len(demo.INSTANCES) or any(float(r["value"][1]) <= t for r in res):
                return False
        return True
    _poll(done, timeout, "not every server scraped every instance after T")


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
    """{step time in ms: {labels: value}} from a range query's matrix."""
    out = {}
    for s in matrix:
        labels = tuple(sorted(s["metric"].items()))
        for t, v in s["values"]:
            out.setdefault(round(float(t) * 1000), {})[labels] = v
    return out


def fetch_histories(servers, exporter, timeout_s):
    """{client: [served.History per instance]} of both servers ({client: Server}): each
    instance's raw samples since the exporter started, then the exporter's log, which then
    holds every request of every scrape the queries saw."""
    now = round(time.time(), 3)
    window = f"{int((now - exporter.started + 10) * 1000)}ms"
    raws = {}
    for client, server in servers.items():
        for i, inst in enumerate(demo.INSTANCES):
            q = f'{{job="{demo.JOB}",instance="{inst}"}}[{window}]'
            data = _api(server, "/api/v1/query", {"query": q, "time": now})
            raws[(client, i)] = served.raw_samples(data["result"])
    log = exporter.scrape_log()
    out = {client: [] for client in servers}
    for (client, i), raw in raws.items():
        entries = [e for e in log if e.client == client and e.index == i]
        out[client].append(served.History(client, i, raw, entries, timeout_s))
    return out


def check_timeline(server, histories, t0, t_end):
    """Part 1's timeline for one server: every step of each TIMELINE_QUERIES answer over
    [t0, t_end] is what its last scrape was served. Returns ({query: answer}, passed,
    failed)."""
    passed = failed = 0
    seen = {}
    t0_ms, step_ms = round(t0 * 1000), round(STEP_S * 1000)
    steps = list(range(t0_ms, round(t_end * 1000) + 1, step_ms))
    views = {t: served.view(histories, t) for t in steps}
    for q, evaluate in TIMELINE_QUERIES.items():
        params = {"query": q, "start": t0, "end": t_end, "step": STEP_S}
        got = _by_step(_api(server, "/api/v1/query_range", params)["result"])
        seen[q] = got
        bad = []
        for t in steps:
            want = evaluate(views[t])
            why = served.step_diff(want, got.get(t, {}))
            if why:
                bad.append(f"t0{(t - t0_ms) / 1000:+.1f}s: {why}")
        p, f = served.report(f"{server.name} timeline {q} ({len(steps)} steps)", bad)
        passed, failed = passed + p, failed + f
    return seen, passed, failed


def check_transitions(server, histories):
    """Part 1: at each stamp where an instance's series change, and 1 ms before it, its whole
    instant vector is the model's. Returns (passed, failed)."""
    bad = []
    n = 0
    for h in histories:
        q = f'{{job="{demo.JOB}",instance="{h.instance}"}}'
        for stamp in h.transitions():
            for t in (stamp - 1, stamp):
                n += 1
                data = _api(server, "/api/v1/query", {"query": q, "time": f"{t / 1000:.3f}"})
                got = {served.series_key(r["metric"]): r["value"][1] for r in data["result"]}
                why = served.step_diff(h.view_at(t), got)
                if why:
                    bad.append(f"{h.instance} @{t}: {why}")
    return served.report(f"{server.name} at the {n} instants around each series change", bad)


def check_against_pages(server, histories, t0, t_end, interval_s):
    """Part 1 for one server. Returns ({query: timeline answer}, passed, failed)."""
    passed = failed = 0
    scrapes = sum(len(h.stamps) for h in histories)
    for what, problems in (
            (f"stored what it was served ({scrapes} scrapes)",
             [f"{h.instance}: {p}" for h in histories
              for p in h.problems["pairing"] + h.problems["contents"]]),
            (f"scraped every instance once per {interval_s}s",
             [f"{h.instance}: {p}" for h in histories
              for p in h.cadence_problems(interval_s)])):
        p, f = served.report(f"{server.name} {what}", problems)
        passed, failed = passed + p, failed + f
    seen, p, f = check_timeline(server, histories, t0, t_end)
    passed, failed = passed + p, failed + f
    p, f = check_transitions(server, histories)
    return seen, passed + p, failed + f


# The outcomes (up, intermittent metric served) each instance's scrapes must go through, in
# this order, on each server: the schedule's phases.
PHASES = {0: [(1, True), (1, False), (1, True)], 1: [(1, True), (1, False), (1, True)],
          FAILING_INSTANCE: [(1, True), (1, False), (0, False), (1, True)]}


def _has_subsequence(runs, wanted):
    it = iter(runs)
    return all(any(r == w for r in it) for w in wanted)


def check_exercised(names, histories, ref_seen):
    """Part 1's self-check: each server was served every phase of the schedule on every
    instance, and the reference's own answers show the intermittent metric gone (while its
    timestamped copy stays) and up == 0 for the failing instance. Returns (passed, failed)."""
    bad = []
    for client, hs in histories.items():
        for h in hs:
            runs = h.outcomes()
            if not _has_subsequence(runs, PHASES[h.index]):
                bad.append(f"{names[client]} went through {runs} on {h.instance}, not "
                           f"{PHASES[h.index]}")
    inter = ref_seen["demo_intermittent_metric"]
    stamped = ref_seen[TIMESTAMPED]
    if not any(not inter.get(t) and stamped.get(t) for t in stamped):
        bad.append("the reference never shows the intermittent metric gone beside its "
                   "timestamped copy")
    failing = ("instance", demo.INSTANCES[FAILING_INSTANCE])
    if not any(failing in k and float(v) == 0 for step in ref_seen["up"].values()
               for k, v in step.items()):
        bad.append("the reference never shows up == 0 for the failing instance")
    return served.report("self-check: both servers were served every phase, and the "
                         "reference shows them", bad, limit=len(bad))


def check_agreement(names, histories):
    """Part 1: where the exporter served both servers the same page (same instance, status,
    tick and intermittent metric; any two 503s), they stored the same samples (their own
    measurements aside). Returns (passed, failed)."""
    by_page = {}
    for client, hs in histories.items():
        for h in hs:
            for stamp, entry in zip(h.stamps, h.entries):
                if entry is not None:
                    # A failed scrape's page is the same whatever the tick.
                    tick = entry.tick if entry.status == 200 else None
                    page = (h.index, entry.status, tick, entry.intermittent)
                    by_page.setdefault(page, {}).setdefault(client, h.samples_at(stamp))
    bad = []
    both = [p for p in by_page.values() if len(p) == 2]
    for page in both:
        (ca, a), (cb, b) = sorted(page.items())
        if a.keys() != b.keys() or any(not served.same_value(a[k], b[k]) for k in a):
            diff = sorted(set(a.items()) ^ set(b.items()))[:3]
            bad.append(f"{names[ca]} and {names[cb]} stored differently what they were "
                       f"served alike: {diff}")
    return served.report(f"both servers stored alike the {len(both)} pages served to both",
                         bad)


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
        mode, why = classify(q, t_eval, sched.frozen_ready, sched.interval_s,
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
        mode, _ = classify(q, t_eval, sched.frozen_ready, sched.interval_s,
                           sched.uncertain_for_ranges)
        if mode != VALUES or _COUNTING_RE.search(q) or case["skip_comparison"]:
            continue
        start = round(frozen_from(_reach(q)[2], sched.frozen_ready) + 0.001, 3)
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


_ADDRESS_RE = re.compile(r"127\.0\.0\.1:\d+")


def _targets(data):
    # Fields that describe a target, not one scrape of it (lastScrape, its duration and
    # globalUrl, which carries the host name, are left out). Each server scrapes its own
    # ports of the exporter: the address is left out too (the instance label names it).
    keep = ("discoveredLabels", "labels", "scrapePool", "scrapeUrl", "health", "lastError",
            "scrapeInterval", "scrapeTimeout")
    out = []
    for t in data["activeTargets"]:
        t = {k: t.get(k) for k in keep}
        t["discoveredLabels"] = {k: _ADDRESS_RE.sub("exporter", v)
                                 for k, v in (t["discoveredLabels"] or {}).items()}
        for k in ("scrapeUrl", "lastError"):
            t[k] = _ADDRESS_RE.sub("exporter", t[k] or "")
        out.append(t)
    return sorted(out, key=repr)


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


def run_live(ref_argv, target_name, target_argv, work, queries, seconds, verbose=False):
    """Plays the live check for about `seconds` (module comment) and returns (passed,
    failed). ref_argv and target_argv map (data dir, config) to a server's argv function."""
    # A run of at least 150 s scrapes at upstream's 5 s and freezes long enough for 1 m
    # ranges to read frozen samples only; a shorter run scrapes every 2 s and covers 15 s.
    interval_s = 5 if seconds >= 150 else 2
    cover_s = 60 if seconds >= 150 else 15
    # The freeze: until every server has scraped the frozen pages (about an interval), then
    # the covered ranges, then a second to pick T clear of every scrape instant.
    freeze_s = cover_s + interval_s + 2
    live_s = seconds - freeze_s
    if live_s < 5 * 2 * interval_s:
        raise ValueError(f"--live-seconds {seconds} is too short for the schedule")
    # How long a server may take to scrape every instance before it counts as stalled.
    patience_s = 30 + 10 * interval_s
    # One tick per interval: each server then fetches most pages the other fetches too.
    exporter = DemoExporter(tick_s=interval_s, clients=(REF, TARGET))
    exporter.start()
    servers = []
    sched = Schedule(interval_s)
    passed = failed = 0
    try:
        argvs = {REF: ref_argv, TARGET: target_argv}
        # (A self-check run compares Prometheus with itself: the names must still differ.)
        names = {REF: "prometheus",
                 TARGET: target_name if target_name != "prometheus" else "prometheus-target"}
        by_client = {}
        sched.started = time.time()
        for client in (REF, TARGET):
            config = os.path.join(work, f"live-{client}.yml")
            write_config(config, exporter.addresses(client), interval_s)
            s = Server(f"{names[client]}-live",
                       argvs[client](os.path.join(work, f"live-{client}"), config), work)
            servers.append(s)
            by_client[client] = s
        ref, target = by_client[REF], by_client[TARGET]
        ref.wait_ready()
        target.wait_ready()
        wait_all_up(servers, len(demo.INSTANCES))
        t0 = round(time.time(), 3)
        print(f"live: both servers scrape {len(demo.INSTANCES)} targets every {interval_s}s; "
              f"schedule over {live_s:.0f}s, then {freeze_s:.0f}s frozen")
        sched.t0 = t0
        step = live_s / 5

        def play(name, at, action):
            # The next switch waits until this one has been served to both servers.
            sched.play(name, max(at, time.time()), action)
            return wait_served(exporter, sched.events[-1][2], patience_s)

        play("intermittent off", t0 + step, lambda: exporter.set_intermittent(False))
        play("instance fails", t0 + 2 * step,
             lambda: exporter.set_failing(FAILING_INSTANCE, True))
        # Once both servers have scraped the failing instance, its target is down with the
        # same error on both (Prometheus's: "server returned HTTP status 503 ...").
        wait_target_down(servers, demo.INSTANCES[FAILING_INSTANCE], patience_s)
        earlier = [("/api/v1/targets while an instance fails",
                    *fetch_pair(ref, target, "/api/v1/targets", {"state": "active"}, _targets))]
        play("intermittent on", t0 + 3 * step, lambda: exporter.set_intermittent(True))
        play("instance recovers", t0 + 4 * step,
             lambda: exporter.set_failing(FAILING_INSTANCE, False))
        first_frozen = play("freeze", t0 + live_s, exporter.freeze)
        frozen_at = sched.events[-1][2]
        sched.frozen_at = frozen_at
        # Every sample stamped from here on has fetched a frozen page (a stamp precedes its
        # request by at most the timestamp adjustment).
        sched.frozen_ready = first_frozen + served.STAMP_EPS_MS / 1000
        time.sleep(max(0.0, max(frozen_at + freeze_s, sched.frozen_ready + cover_s + 1.5)
                       - time.time()))
        t_eval = pick_eval_time(servers, interval_s, sched.frozen_ready + cover_s)
        print(f"live: evaluating at t0{t_eval - t0:+.1f}s, {t_eval - frozen_at:.1f}s into the "
              f"freeze, {t_eval - sched.frozen_ready:.1f}s after both servers' first frozen "
              f"scrapes; exporter served {sum(exporter.scrapes())} scrapes")
        for (agent, accept), n in sorted(exporter.requests().items()):
            print(f"live:   {n} scrapes by {agent!r}, Accept: {accept}")
        # A negative offset reads samples scraped after T: wait until both servers have
        # scraped every target since T, so that both have some (all frozen, all equal).
        wait_scraped_since(servers, t_eval, patience_s)

        histories = fetch_histories(by_client, exporter, interval_s)
        sched.measure([h for hs in histories.values() for h in hs])
        totals = []
        seen = {}
        for client in (REF, TARGET):
            seen[client], p, f = check_against_pages(by_client[client], histories[client], t0,
                                                     t_eval, interval_s)
            totals.append((p, f))
        totals += [check_exercised(names, histories, seen[REF]),
                   check_agreement(names, histories)]
        t0_ms, t_eval_ms = t0 * 1000, t_eval * 1000
        runs = {c: [h.outcomes(t0_ms, t_eval_ms) for h in hs] for c, hs in histories.items()}
        if runs[REF] == runs[TARGET]:
            totals.append(check_report_runs(ref, target, t0, t_eval))
        else:
            print("live: runs of the report series not compared: the servers' scrapes had "
                  f"different outcomes (prometheus {runs[REF]}, {names[TARGET]} {runs[TARGET]})")
        totals += [check_suite(ref, target, queries, t_eval, sched, verbose),
                   check_api(ref, target, t0, t_eval, earlier)]
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
