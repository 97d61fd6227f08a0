#!/usr/bin/python3
"""Tests of the live check's parts: the exporter over real HTTP (its pages linted by Debian's
promtool), the comparison classes, and the timeline comparison and self-check on answers
shaped like a server that writes no stale markers."""

import gzip
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
import live  # noqa: E402
from exporter import DemoExporter  # noqa: E402


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


class ClassifyTest(unittest.TestCase):
    T = 1000.0

    def classify(self, query, frozen_for=70.0, interval=5, uncertain=lambda t: False):
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
        self.assertEqual(self.classify("demo_memory_usage_bytes", frozen_for=5), live.LABELS)
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


class TimelineTest(unittest.TestCase):
    """A 2 s interval schedule with switches every 10 s, and answers built from it."""

    def setUp(self):
        self.sched = live.Schedule(2)
        self.sched.t0 = 0.0
        for i, name in enumerate(["intermittent off", "instance fails", "intermittent on",
                                  "instance recovers", "freeze"]):
            self.sched.events.append((name, 10.0 * (i + 1), 10.0 * (i + 1) + 0.01))
        self.steps = [i * live.STEP_S for i in range(120)]
        self.checked = [t for t in self.steps if not self.sched.uncertain(t)]

    def intermittent(self, stale_markers=True):
        """demo_intermittent_metric as a server shows it: gone from 10 s to 30 s, and on the
        failing instance from 20 s to 40 s; without stale markers a series stays visible
        for the 5 m lookback, so it never disappears."""
        out = {}
        for t in self.steps:
            step = {}
            for i, inst in enumerate(demo.INSTANCES):
                gone = 10 <= t < 30 or (i == live.FAILING_INSTANCE and 20 <= t < 40)
                if not gone or not stale_markers:
                    step[(("instance", inst),)] = "1"
            out[t] = step
        return out

    def reference(self, stale_markers=True):
        up, count = {}, {}
        failing = demo.INSTANCES[live.FAILING_INSTANCE]
        for t in self.steps:
            down = 20 <= t < 40
            up[t] = {(("instance", i),): "0" if down and i == failing else "1"
                     for i in demo.INSTANCES}
            count[t] = {(("instance", i),): str(live.REPORT_SERIES) if down and i == failing
                        else "250" for i in demo.INSTANCES}
        # Samples with their own timestamps get no stale marker: the series stays.
        timestamped = {t: {(("instance", demo.INSTANCES[1]),): "1"} for t in self.steps}
        return {"demo_intermittent_metric": self.intermittent(stale_markers), "up": up,
                'count by (instance) ({job="demo"})': count,
                "demo_intermittent_timestamped_metric": timestamped}

    def test_a_server_without_stale_markers_differs_where_certain(self):
        ref, got = self.intermittent(), self.intermittent(stale_markers=False)
        self.assertEqual(live.timeline_diff(ref, ref, self.checked), [])
        bad = live.timeline_diff(ref, got, self.checked)
        self.assertTrue(bad)
        self.assertTrue(all(10 < t < 40 for t, _, _ in bad))
        # Right after a switch a step is uncertain and not compared.
        self.assertNotIn(10.5, [t for t, _, _ in bad])

    def test_self_check_needs_the_reference_to_show_the_schedule(self):
        self.assertEqual(live.self_check(self.reference(), self.sched, self.checked), [])
        missing = live.self_check(self.reference(stale_markers=False), self.sched, self.checked)
        self.assertEqual(len(missing), 2)
        self.assertIn("stale marker", missing[0])


class ValueRunsTest(unittest.TestCase):
    def test_repeats_collapse_and_series_stay_apart(self):
        matrix = [
            {"metric": {"instance": "a"}, "values": [[1, "0"], [2, "0"], [3, "1"], [4, "0"]]},
            {"metric": {"instance": "b"}, "values": [[1.5, "0"], [3.5, "1"], [5.5, "1"]]},
        ]
        self.assertEqual(live.value_runs(matrix), {(("instance", "a"),): ["0", "1", "0"],
                                                   (("instance", "b"),): ["0", "1"]})


class CadenceTest(unittest.TestCase):
    @staticmethod
    def log(agents=("kiln", "prometheus"), skip=lambda agent, t: False, every=2.0):
        out = []
        for k in range(int(60 / every)):
            for agent in agents:
                for index in range(len(demo.INSTANCES)):
                    t = 0.3 + index * 0.2 + k * every + (0.1 if agent == "kiln" else 0)
                    if not skip(agent, t):
                        out.append((t, index, agent))
        return sorted(out)

    def test_every_scraper_scrapes_every_instance_every_interval(self):
        self.assertEqual(live.check_cadence(self.log(), 0, 60, 2), (6, 0))

    def test_a_stalled_or_hurried_scrape_loop_fails(self):
        stalled = self.log(skip=lambda agent, t: agent == "kiln" and 40 < t < 50)
        self.assertEqual(live.check_cadence(stalled, 0, 60, 2), (3, 3))
        hurried = self.log() + [(t + 1, i, a) for t, i, a in self.log() if a == "prometheus"]
        self.assertEqual(live.check_cadence(sorted(hurried), 0, 60, 2), (3, 3))

    def test_servers_that_cannot_be_told_apart_are_not_checked(self):
        self.assertEqual(live.check_cadence(self.log(agents=("same",)), 0, 60, 2), (0, 0))


if __name__ == "__main__":
    unittest.main()
