#!/usr/bin/python3
"""Tests of the live check's parts: the exporter over real HTTP (its pages linted by Debian's
promtool, its log matching what went over the wire), the comparison classes, pairing and
cadence on stored scrapes, and the checks against the served pages run on simulated servers
that scrape the real exporter: a correct one passes however its scrapes are delayed, and one
that writes no stale markers, writes them a scrape late, stale-marks a series with explicit
timestamps or stores a wrong value fails."""

import bisect
import contextlib
import gzip
import io
import math
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
import live  # noqa: E402
import served  # noqa: E402
from exporter import TIMESTAMPED, DemoExporter, Scrape  # noqa: E402


PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def fetch(addr, path="/metrics", accept="", gz=False):
    req = urllib.request.Request(f"http://{addr}{path}")
    if accept:
        req.add_header("Accept", accept)
    if gz:
        req.add_header("Accept-Encoding", "gzip")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            data = r.read()
            if r.headers.get("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            return r.status, r.headers.get("Content-Type"), data.decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


class ExporterTest(unittest.TestCase):
    def setUp(self):
        self.exporter = DemoExporter(tick_s=0.05)
        self.exporter.start()
        self.addrs = self.exporter.addresses()

    def tearDown(self):
        self.exporter.stop()

    def test_pages_are_valid_text_format(self):
        for addr in self.addrs:
            status, ctype, body = fetch(addr)
            self.assertEqual(status, 200)
            self.assertEqual(ctype, "text/plain; version=0.0.4; charset=utf-8")
            self.assertIn("# TYPE demo_api_request_duration_seconds histogram\n", body)
            # The scrape adds these itself; an exporter exposing them would clash.
            for line in body.splitlines():
                self.assertFalse(line.startswith(("up ", "scrape_duration_seconds ")), line)
            if shutil.which("promtool"):
                lint = subprocess.run(["promtool", "check", "metrics"], input=body,
                                      capture_output=True, text=True)
                self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        self.assertEqual(fetch(self.addrs[0], "/other")[0], 404)

    def test_openmetrics_on_request_from_instance_0_and_gzip(self):
        status, ctype, om = fetch(self.addrs[0], accept=PROMETHEUS_ACCEPT, gz=True)
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "application/openmetrics-text; version=1.0.0; charset=utf-8")
        self.assertTrue(om.endswith("\ndemo_intermittent_metric 1\n# EOF\n"), om[-200:])
        self.assertIn("# TYPE demo_cpu_usage_seconds counter\n# UNIT demo_cpu_usage_seconds seconds\n",
                      om)
        self.assertIn("# UNIT demo_memory_usage_bytes bytes\n", om)
        self.assertNotIn("# UNIT demo_num_cpus", om)
        self.assertIn('\ndemo_cpu_usage_seconds_total{mode="user"} ', om)
        self.assertEqual(om.count("# EOF"), 1)
        # The same values as the text page: only the counter's family name differs.
        text = fetch(self.addrs[0])[2]
        self.assertEqual([ln for ln in om.splitlines() if not ln.startswith("#")],
                         [ln for ln in text.splitlines() if not ln.startswith("#")])
        # Instances 1 and 2 answer in the text format whatever is asked for; q=0 refuses.
        self.assertEqual(fetch(self.addrs[1], accept=PROMETHEUS_ACCEPT)[1],
                         "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(fetch(self.addrs[0], accept="application/openmetrics-text;q=0")[1],
                         "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(self.exporter.requests()[("Python-urllib/%d.%d" % sys.version_info[:2],
                                                   PROMETHEUS_ACCEPT)], 2)

    def test_intermittent_metric_and_failure_follow_the_switches(self):
        self.assertIn("\ndemo_intermittent_metric 1\n", fetch(self.addrs[0])[2])
        self.assertNotIn("timestamped", fetch(self.addrs[0])[2])
        # Instance 1 also shows a copy with the last tick's timestamp (ms).
        stamped = [ln for ln in fetch(self.addrs[1])[2].splitlines()
                   if ln.startswith("demo_intermittent_timestamped_metric ")]
        self.assertEqual(len(stamped), 1)
        self.assertLess(abs(int(stamped[0].split()[2]) - time.time() * 1000), 5000)
        self.exporter.set_intermittent(False)
        self.assertNotIn("demo_intermittent_metric", fetch(self.addrs[0])[2])
        self.assertNotIn("demo_intermittent", fetch(self.addrs[1])[2])
        self.exporter.set_failing(2, True)
        self.assertEqual(fetch(self.addrs[2])[0], 503)
        self.assertEqual(fetch(self.addrs[1])[0], 200)
        self.exporter.set_failing(2, False)
        self.exporter.set_intermittent(True)
        status, _, body = fetch(self.addrs[2])
        self.assertEqual(status, 200)
        self.assertIn("\ndemo_intermittent_metric 1\n", body)
        self.assertEqual(self.exporter.scrapes(), [3, 3, 2])

    def test_values_move_until_frozen(self):
        first = fetch(self.addrs[0])[2]
        # Counters advance on the next tick: polled, as a busy machine may delay the ticker.
        deadline = time.monotonic() + 30
        while fetch(self.addrs[0])[2] == first and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotEqual(fetch(self.addrs[0])[2], first)
        # A tick renders under the exporter's lock, which freeze() takes: from its return on,
        # no page changes.
        self.exporter.freeze()
        frozen = fetch(self.addrs[0])[2]
        time.sleep(0.3)  # six ticks' worth: none may change the page
        self.assertEqual(fetch(self.addrs[0])[2], frozen)


    def test_each_client_has_its_own_ports_and_the_log_holds_what_went_over_the_wire(self):
        exporter = DemoExporter(tick_s=0.05, clients=("a", "b"))
        exporter.start()
        try:
            a, b = exporter.addresses("a"), exporter.addresses("b")
            self.assertEqual(len(set(a + b)), 2 * len(demo.INSTANCES))
            bodies = [fetch(a[1])[2], fetch(b[0], accept=PROMETHEUS_ACCEPT, gz=True)[2]]
            exporter.set_intermittent(False)
            bodies.append(fetch(b[1])[2])
            exporter.set_failing(2, True)
            self.assertEqual(fetch(a[2])[0], 503)
            log = exporter.scrape_log()
        finally:
            exporter.stop()
        self.assertEqual([(e.client, e.index, e.status, e.intermittent) for e in log],
                         [("a", 1, 200, True), ("b", 0, 200, True), ("b", 1, 200, False),
                          ("a", 2, 503, False)])
        self.assertTrue(bodies[1].endswith("# EOF\n"))
        for entry, body in zip(log, bodies):
            self.assertEqual(parse_page(body), list(entry.samples()))
        self.assertIn(TIMESTAMPED, [s[0] for s in log[0].samples()])
        self.assertEqual(log[3].samples(), ())
        self.assertEqual(log[1].user_agent, "Python-urllib/%d.%d" % sys.version_info[:2])


_LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (\d+))?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_page(text):
    """The samples of an exporter page, as Scrape.samples() lists them (the exporter's pages
    escape nothing, so this parser need not either)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE_RE.match(line)
        assert m, line
        labels = tuple(sorted(_LABEL_RE.findall(m.group(2) or "")))
        ts = int(m.group(4)) if m.group(4) else None
        out.append((m.group(1), labels, float(m.group(3)), ts))
    return out


class ClassifyTest(unittest.TestCase):
    T = 1000.0

    def classify(self, query, frozen_for=70.0, interval=5, uncertain=lambda t: False):
        """frozen_for: how long before T every sample either server stamps is frozen."""
        return live.classify(query, self.T, self.T - frozen_for, interval, uncertain)[0]

    def test_parse_duration(self):
        self.assertEqual(live.parse_duration("4m59s999ms"), 299.999)
        self.assertEqual(live.parse_duration("1h"), 3600)
        for bad in ("", "5", "m5", "5x"):
            with self.assertRaises(ValueError):
                live.parse_duration(bad)

    def test_classes(self):
        self.assertEqual(self.classify("demo_memory_usage_bytes"), live.VALUES)
        self.assertEqual(self.classify("rate(demo_cpu_usage_seconds_total[1m])"), live.VALUES)
        self.assertEqual(self.classify("demo_memory_usage_bytes offset 1m"), live.VALUES)
        # A negative offset reads samples scraped after T, all frozen.
        self.assertEqual(self.classify("demo_memory_usage_bytes offset -10m"), live.VALUES)
        self.assertEqual(self.classify("rate(demo_cpu_usage_seconds_total[5m])"), live.LABELS)
        self.assertEqual(self.classify("demo_memory_usage_bytes", frozen_for=0), live.VALUES)
        self.assertEqual(self.classify("demo_memory_usage_bytes", frozen_for=-0.1), live.LABELS)
        self.assertEqual(self.classify("demo_memory_usage_bytes offset 1m", frozen_for=59),
                         live.LABELS)
        self.assertEqual(self.classify("timestamp(demo_num_cpus)"), live.LABELS)
        self.assertEqual(self.classify("count_over_time(up[15s])", interval=5), live.VALUES)
        self.assertEqual(self.classify("count_over_time(up[15s])", interval=2), live.LABELS)
        self.assertEqual(self.classify("sum_over_time(up[15s])", interval=2), live.LABELS)
        self.assertEqual(self.classify("max_over_time(up[15s])", interval=2), live.VALUES)
        self.assertEqual(self.classify("irate(demo_cpu_usage_seconds_total[1s])"), live.OUTCOME)
        self.assertEqual(self.classify("rate(demo_cpu_usage_seconds_total[5s])"), live.OUTCOME)
        # Subquery and offset both count toward how far back the query reads.
        self.assertEqual(self.classify("max_over_time(demo_num_cpus[45s:10s])"), live.VALUES)
        self.assertEqual(self.classify("max_over_time(demo_num_cpus[45s:10s] offset 30s)"),
                         live.LABELS)
        # An offset landing on an uncertain instant; the same reach without it is labels.
        at = lambda t: abs(t - (self.T - 300)) < 1  # noqa: E731
        self.assertEqual(self.classify("demo_memory_usage_bytes offset 5m", uncertain=at),
                         live.OUTCOME)
        self.assertEqual(self.classify("demo_memory_usage_bytes offset 10m", uncertain=at),
                         live.LABELS)


def answer(result, rtype="vector"):
    return 200, {"status": "success", "data": {"resultType": rtype, "result": result}}


def sample(value, **labels):
    return {"metric": labels, "value": [1000, str(value)]}


class CompareTest(unittest.TestCase):
    def test_classes(self):
        ref = answer([sample(1, __name__="a", i="0"), sample(2, __name__="a", i="1")])
        other_values = answer([sample(1, __name__="a", i="0"), sample(3, __name__="a", i="1")])
        other_labels = answer([sample(1, __name__="a", i="0")])
        error = (400, {"status": "error", "error": "bad"})
        self.assertIsNone(live.compare_live(ref, ref, live.VALUES))
        self.assertIn("1", live.compare_live(ref, other_values, live.VALUES))
        self.assertIsNone(live.compare_live(ref, other_values, live.LABELS))
        self.assertEqual(live.compare_live(ref, other_labels, live.LABELS), "label sets differ")
        self.assertIsNone(live.compare_live(ref, other_labels, live.OUTCOME))
        self.assertEqual(live.compare_live(ref, error, live.OUTCOME), "error mismatch")
        self.assertIsNone(live.compare_live(error, error, live.VALUES))

    def test_scrape_duration_is_each_servers_own(self):
        ref = answer([sample(0.002, __name__="scrape_duration_seconds", i="0")])
        got = answer([sample(0.004, __name__="scrape_duration_seconds", i="0")])
        self.assertIsNone(live.compare_live(ref, got, live.VALUES))
        missing = answer([])
        self.assertEqual(live.compare_live(ref, missing, live.VALUES), "label sets differ")


class SimServer:
    """A scraper with its own storage, written for this test and independent of the checks:
    it scrapes one exporter client's ports on a grid (skipping slots a slow scrape ran
    into), stores samples, report series and stale markers as Prometheus does, and answers
    the API queries the live check makes. `fault` breaks it on purpose; `delays` makes its
    requests and scrapes late and slow at random, as on a loaded machine."""

    def __init__(self, name, exporter, client, interval_s, fault=None, delays=False, seed=1):
        self.name = name
        self._addrs = exporter.addresses(client)
        self._interval_ms = interval_s * 1000
        self._fault = fault
        self._delays = delays
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._series = {}  # series key -> [(t ms, value, or None for a stale marker)]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                         for i in range(len(demo.INSTANCES))]

    def start(self):
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join()

    def _append(self, key, t, value):
        points = self._series.setdefault(key, [])
        if points and points[-1][0] >= t:
            return  # out of order or a duplicate: dropped, as a TSDB does
        points.append((t, value))

    def _loop(self, index):
        labels = {"job": demo.JOB, "instance": demo.INSTANCES[index]}
        iv = self._interval_ms
        slot = time.time() * 1000 + iv * (index + 1) / 4
        previous, vanished_before = set(), set()
        while not self._stop.wait(max(0.0, slot / 1000 - time.time())):
            stamp = int(time.time() * 1000)
            if self._delays:
                time.sleep(self._rng.uniform(0, 0.4) * iv / 1000)
            status, _, body = fetch(self._addrs[index])
            if self._delays and self._rng.random() < 0.2:
                time.sleep(self._rng.uniform(0.5, 1.2) * iv / 1000)
            duration = time.time() - stamp / 1000
            current = set()
            samples = parse_page(body) if status == 200 else []
            with self._lock:
                for name, pairs, value, ts in samples:
                    key = served.series_key(dict(pairs, __name__=name, **labels))
                    if self._fault == "wrong value" and name == "demo_num_cpus" and index == 0:
                        value += 1
                    self._append(key, stamp if ts is None else ts, value)
                    if ts is None or self._fault == "stale-marks timestamped":
                        current.add(key)
                report = {"up": float(status == 200), "scrape_duration_seconds": duration,
                          "scrape_samples_scraped": len(samples),
                          "scrape_samples_post_metric_relabeling": len(samples),
                          "scrape_series_added": len(current - previous)}
                for name, value in report.items():
                    self._append(served.series_key(dict(labels, __name__=name)), stamp, value)
                vanished = previous - current
                if self._fault == "late stale markers":
                    vanished, vanished_before = vanished_before - current, vanished
                if self._fault != "no stale markers":
                    for key in vanished:
                        self._append(key, stamp, None)
                previous = current
            slot += iv
            while slot <= time.time() * 1000:
                slot += iv

    # --- the API, for the queries the live check makes --------------------------------------

    def _vector(self, t, instance=None):
        out = {}
        for key, points in self._series.items():
            if instance and dict(key)["instance"] != instance:
                continue
            i = bisect.bisect_right(points, t, key=lambda p: p[0]) - 1
            if i >= 0 and points[i][1] is not None and points[i][0] > t - served.LOOKBACK_MS:
                out[key] = points[i][1]
        return out

    @staticmethod
    def _evaluate(query, vector):
        if query == 'count by (instance) ({job="demo"})':
            counts = {}
            for key in vector:
                k = (("instance", dict(key)["instance"]),)
                counts[k] = counts.get(k, 0) + 1
            return counts
        return {k: v for k, v in vector.items() if dict(k)["__name__"] == query}

    def api(self, path, params, method="POST"):
        q = params["query"]
        t = round(float(params.get("time", 0)) * 1000)
        with self._lock:
            if path == "/api/v1/query_range":
                start, end = round(float(params["start"]) * 1000), float(params["end"]) * 1000
                series = {}
                step = round(float(params["step"]) * 1000)
                for s in range(start, math.floor(end) + 1, step):
                    for k, v in self._evaluate(q, self._vector(s)).items():
                        series.setdefault(k, []).append([s / 1000, repr(float(v))])
                result = [{"metric": dict(k), "values": v} for k, v in series.items()]
                return 200, {"status": "success", "data": {"resultType": "matrix",
                                                           "result": result}}
            m = re.fullmatch(r'\{job="demo",instance="([^"]+)"\}(?:\[(\d+)ms\])?', q)
            assert m, q
            if m.group(2) is None:
                result = [{"metric": dict(k), "value": [t / 1000, repr(float(v))]}
                          for k, v in self._vector(t, m.group(1)).items()]
                return 200, {"status": "success", "data": {"resultType": "vector",
                                                           "result": result}}
            lo = t - int(m.group(2))
            result = []
            for key, points in self._series.items():
                if dict(key)["instance"] == m.group(1):
                    values = [[p / 1000, repr(float(v))] for p, v in points
                              if v is not None and lo <= p <= t]
                    if values:
                        result.append({"metric": dict(key), "values": values})
            return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}


class AgainstPagesTest(unittest.TestCase):
    """One schedule played on the real exporter, scraped by a correct simulated server (the
    reference), a correct one whose scrapes are delayed and slow, and broken ones; each is
    checked as the live check checks Kiln."""

    INTERVAL_S = 0.2
    FAULTS = ["no stale markers", "late stale markers", "stale-marks timestamped",
              "wrong value"]

    @classmethod
    def setUpClass(cls):
        clients = [live.REF, "delayed"] + cls.FAULTS
        exporter = DemoExporter(tick_s=0.1, clients=clients)
        exporter.start()
        sims = {c: SimServer(c, exporter, c, cls.INTERVAL_S, seed=i,
                             fault=c if c in cls.FAULTS else None, delays=c == "delayed")
                for i, c in enumerate(clients)}
        for s in sims.values():
            s.start()
        try:
            live.wait_served(exporter, 0, 60)
            cls.t0 = time.time()
            for action in (lambda: exporter.set_intermittent(False),
                           lambda: exporter.set_failing(live.FAILING_INSTANCE, True),
                           lambda: exporter.set_intermittent(True),
                           lambda: exporter.set_failing(live.FAILING_INSTANCE, False),
                           exporter.freeze):
                action()
                # Three scrapes of every instance by every server in each phase, so that
                # the reference's timeline (at 0.5 s steps) shows each of them.
                for _ in range(3):
                    live.wait_served(exporter, time.time(), 60)
            cls.t_end = time.time()
        finally:
            for s in sims.values():
                s.stop()
            exporter.stop()
        cls.histories = live.fetch_histories(sims, exporter, cls.INTERVAL_S)
        cls.sims = sims

    def failures(self, client):
        """The labels of the FAIL lines of the live check's part 1 for one server beside the
        reference, the cadence aside (this test's own loops run on a busy machine; see
        CadenceTest)."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            seen = {}
            for c in (live.REF, client):
                seen[c], _, _ = live.check_against_pages(self.sims[c], self.histories[c],
                                                         self.t0, self.t_end, self.INTERVAL_S)
            pair = {live.REF: self.histories[live.REF], live.TARGET: self.histories[client]}
            names = {live.REF: "reference", live.TARGET: client}
            live.check_exercised(names, pair, seen[live.REF])
            live.check_agreement(names, pair)
        lines = [ln[len("FAIL live "):].split(":")[0] for ln in out.getvalue().splitlines()
                 if ln.startswith("FAIL live ") and "once per" not in ln]
        self.output = out.getvalue()
        return lines

    def test_correct_servers_pass_however_late_and_slow_their_scrapes(self):
        self.assertEqual(self.failures("delayed"), [], self.output)
        self.assertIn("PASS live reference stored what it was served", self.output)
        self.assertIn("PASS live self-check", self.output)
        # The delayed server's late requests still paired with its stamps.
        hs = self.histories["delayed"]
        self.assertTrue(all(e is not None for h in hs for e in h.entries))

    def test_no_stale_markers_fail(self):
        got = self.failures("no stale markers")
        self.assertIn("no stale markers timeline demo_intermittent_metric (", " | ".join(got))
        self.assertIn('no stale markers timeline count by (instance) ({job="demo"}) (',
                      " | ".join(got))
        self.assertTrue(any("around each series change" in g for g in got), got)

    def test_late_stale_markers_fail(self):
        # One scrape late is shorter than a timeline step; the instants around each series
        # change catch it.
        got = self.failures("late stale markers")
        self.assertTrue(any("around each series change" in g for g in got), got)

    def test_stale_markers_for_explicit_timestamps_fail(self):
        got = self.failures("stale-marks timestamped")
        self.assertIn(f"stale-marks timestamped timeline {TIMESTAMPED} (", " | ".join(got))

    def test_a_wrong_value_fails(self):
        got = self.failures("wrong value")
        joined = " | ".join(got)
        self.assertIn("wrong value stored what it was served", joined)
        self.assertIn("wrong value timeline demo_num_cpus", joined)
        self.assertIn("both servers stored alike", joined)
        self.assertIn("demo_num_cpus @", self.output)

    def test_the_self_check_needs_every_phase(self):
        # A server that was never served the failure (its history cut before it) fails.
        hs = self.histories[live.REF]
        cut = min(h.stamps[len(h.stamps) // 4] for h in hs)
        short = [served.History(h.server, h.index,
                                {k: [p for p in v if p[0] < cut] for k, v in h.raw.items()},
                                [e for e in h.entries if e], self.INTERVAL_S) for h in hs]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            live.check_exercised({live.REF: "reference", live.TARGET: "short"},
                                 {live.REF: hs, live.TARGET: short}, {
                                     "demo_intermittent_metric": {}, TIMESTAMPED: {}, "up": {}})
        text = out.getvalue()
        self.assertIn("FAIL live self-check", text)
        self.assertIn("short went through", text)
        self.assertIn("the reference never shows the intermittent metric gone", text)
        self.assertIn("the reference never shows up == 0", text)


class ValueRunsTest(unittest.TestCase):
    def test_repeats_collapse_and_series_stay_apart(self):
        matrix = [
            {"metric": {"instance": "a"}, "values": [[1, "0"], [2, "0"], [3, "1"], [4, "0"]]},
            {"metric": {"instance": "b"}, "values": [[1.5, "0"], [3.5, "1"], [5.5, "1"]]},
        ]
        self.assertEqual(live.value_runs(matrix), {(("instance", "a"),): ["0", "1", "0"],
                                                   (("instance", "b"),): ["0", "1"]})


def history(stamps, durations=None, ups=None, requests=None, timeout_s=2.0):
    """A served.History of instance 0 from stamps (ms) alone: up, scrape_duration_seconds,
    and the requests (default: one 1 ms after each stamp, an empty page)."""
    ups = ups or [1.0] * len(stamps)
    durations = durations or [0.005] * len(stamps)
    labels = {"job": demo.JOB, "instance": demo.INSTANCES[0]}
    raw = {served.series_key(dict(labels, __name__="up")):
           [(t, str(u)) for t, u in zip(stamps, ups)],
           served.series_key(dict(labels, __name__="scrape_duration_seconds")):
           [(t, str(d)) for t, d in zip(stamps, durations)]}
    if requests is None:
        requests = [(t + 1, 200) for t in stamps]
    entries = [Scrape(t / 1000, "c", 0, "", "", status, 0, False, (), ())
               for t, status in requests]
    return served.History("c", 0, raw, entries, timeout_s)


class PairingTest(unittest.TestCase):
    STAMPS = [1000, 3000, 5000, 7000]

    def test_one_request_per_stored_scrape(self):
        h = history(self.STAMPS)
        self.assertEqual(h.problems["pairing"], [])
        self.assertEqual([e.time for e in h.entries], [1.001, 3.001, 5.001, 7.001])
        # A request logged up to the timestamp adjustment before its stamp is its own.
        h = history(self.STAMPS, requests=[(998, 200), (3001, 200), (5001, 200), (7001, 200)])
        self.assertEqual(h.problems["pairing"], [])

    def test_requests_without_stored_scrapes_and_scrapes_without_requests_fail(self):
        before = history(self.STAMPS, requests=[(500, 200)] + [(t + 1, 200) for t in self.STAMPS])
        self.assertIn("before its first stored scrape", before.problems["pairing"][0])
        twice = history(self.STAMPS, requests=[(1001, 200), (2000, 200), (3001, 200),
                                               (5001, 200), (7001, 200)])
        self.assertEqual(len(twice.problems["pairing"]), 1)
        self.assertIn("2 requests between the stamps 1000 and 3000", twice.problems["pairing"][0])
        missing = history(self.STAMPS, requests=[(1001, 200), (5001, 200), (7001, 200)])
        self.assertIn("scrape at 3000 stored up 1 but the exporter served it no page",
                      missing.problems["pairing"])

    def test_up_0_needs_a_503_or_a_timeout(self):
        ups = [1.0, 0.0, 1.0, 1.0]
        failed = history(self.STAMPS, ups=ups,
                         requests=[(1001, 200), (3001, 503), (5001, 200), (7001, 200)])
        self.assertEqual(failed.problems["pairing"], [])
        wrong = history(self.STAMPS, ups=ups)
        self.assertIn("stored up 0 after 0.005s", wrong.problems["pairing"][0])
        self.assertIn("stored up 1 for a page served with 503", history(
            self.STAMPS, requests=[(1001, 503), (3001, 200), (5001, 200), (7001, 200)])
            .problems["pairing"][0])
        # A scrape that timed out (its duration the timeout) may have its request logged
        # after the next stamp.
        timed_out = history(self.STAMPS, ups=ups, durations=[0.005, 1.95, 0.005, 0.005],
                            requests=[(1001, 200), (5001, 200), (5002, 200), (7001, 200)])
        self.assertEqual(timed_out.problems["pairing"], [])

    def test_contents_follow_the_page(self):
        labels = {"job": demo.JOB, "instance": demo.INSTANCES[0]}
        key = lambda name: served.series_key(dict(labels, __name__=name))  # noqa: E731
        page = (("demo_num_cpus", (), 4.0, None),)
        entries = [Scrape(t / 1000 + 0.001, "c", 0, "", "", 200, 0, False, page, ())
                   for t in (1000, 3000)]
        raw = {key("up"): [(1000, "1"), (3000, "1")],
               key("scrape_duration_seconds"): [(1000, "0.01"), (3000, "0.01")],
               key("scrape_series_added"): [(1000, "1"), (3000, "0")],
               key("scrape_samples_scraped"): [(1000, "1"), (3000, "1")],
               key("scrape_samples_post_metric_relabeling"): [(1000, "1"), (3000, "1")],
               key("demo_num_cpus"): [(1000, "4"), (3000, "4")]}
        self.assertEqual(served.History("c", 0, raw, entries, 2).problems["contents"], [])
        raw[key("demo_num_cpus")] = [(1000, "4"), (3000, "4.000001"), (4000, "4")]
        raw[key("scrape_samples_scraped")] = [(1000, "1")]
        problems = served.History("c", 0, raw, entries, 2).problems["contents"]
        self.assertEqual(problems, ["demo_num_cpus @3000: stored 4.000001, served 4.0",
                                    "scrape_samples_scraped @3000: missing, served 1.0"])


class CadenceTest(unittest.TestCase):
    IV = 2000

    def grid(self, n=20, late=lambda k: 3):
        return [100_000 + 700 + k * self.IV + late(k) for k in range(n)]

    def test_a_loop_on_its_grid_passes_however_late_it_wakes(self):
        self.assertEqual(history(self.grid()).cadence_problems(2), [])
        rng = random.Random(3)
        late = [rng.uniform(0, 1500) for _ in range(20)]
        self.assertEqual(history(self.grid(late=lambda k: late[k])).cadence_problems(2), [])

    def test_a_slot_skipped_by_a_slow_scrape_passes(self):
        stamps = self.grid()
        del stamps[6]
        durations = [0.005] * len(stamps)
        durations[5] = 1.9  # ran into the slot once its wrap-up is counted
        self.assertEqual(history(stamps, durations=durations).cadence_problems(2), [])
        # Prometheus's ticker instead fires right after a scrape that overran its slot.
        stamps = self.grid()
        stamps[6] = stamps[5] + 2900
        durations = [0.005] * len(stamps)
        durations[5] = 2.89
        self.assertEqual(history(stamps, durations=durations).cadence_problems(2), [])

    def test_a_loop_woken_up_over_an_interval_late_passes(self):
        stamps = self.grid()
        stamps[6] += self.IV + 400  # slot 6 empty; slot 7 holds a scrape 0.4 s late
        del stamps[7]
        self.assertEqual(history(stamps).cadence_problems(2), [])
        # Over two intervals late, and on time in its slot, is a loop that skipped a slot.
        stamps = self.grid()
        stamps[6] += 2 * self.IV
        del stamps[7:9]
        self.assertEqual(len(history(stamps).cadence_problems(2)), 2)
        # Skips are not hidden by a grid on which every scrape looks late (the phase of one
        # late scrape): lateness counts against the loop's usual.
        stamps = self.grid(late=lambda k: 900 if k == 3 else 3)
        for k in (15, 11, 7):
            del stamps[k]
        self.assertEqual(len(history(stamps).cadence_problems(2)), 3)

    def test_a_stalled_or_hurried_loop_fails(self):
        stamps = self.grid()
        del stamps[6]
        problems = history(stamps).cadence_problems(2)
        self.assertEqual(len(problems), 1)
        self.assertIn("skipped the slot", problems[0])
        paused = self.grid()[:8] + self.grid()[14:]
        self.assertEqual(len(history(paused).cadence_problems(2)), 6)
        # (A loop that stops for good fails earlier: run_live waits for a scrape of every
        # instance after T.)
        hurried = sorted(self.grid() + [self.grid()[8] + 1000])
        self.assertIn("2 scrapes within one interval", history(hurried).cadence_problems(2)[0])
        double = [t for s in self.grid() for t in (s, s + 1000)]
        self.assertGreaterEqual(len(history(double).cadence_problems(2)), 19)


if __name__ == "__main__":
    unittest.main()
