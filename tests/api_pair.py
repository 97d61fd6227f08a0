"""A Prometheus 2.42 and a Kiln holding the same data, for the HTTP API end-to-end tests.

Prometheus scrapes a fixture exporter (a small HTTP server in this process) every second
and remote_writes everything it appends into Kiln, so both hold the same samples with the
same timestamps. A second Kiln (`scraper`) scrapes the same target itself, for answers only
scrapes produce (per-target metadata). `Pair.start()` returns once both answer identically
for every raw sample up to `Pair.sync_ms`; queries at or before that time see the same data
on both sides.
"""

import json
import math
import os
import sys
import threading
import time

import e2e_lib as e2e
from e2e_lib import PROMETHEUS, PROMTOOL, get_json


class FixtureExporter:
    """Serves /metrics in the text format: counters, gauges, a classic histogram, an info
    metric and a gauge with a unit, each with HELP and TYPE. Values move on every scrape."""

    def __init__(self):
        self.scrapes = 0
        self.lock = threading.Lock()
        self.pages = e2e.PageServer({"/metrics": lambda: (self.render(), e2e.TEXT_FORMAT)})
        self.port = self.pages.port

    def render(self):
        with self.lock:
            self.scrapes += 1
            n = self.scrapes
        lines = [
            "# HELP fixture_requests_total Requests handled, by method and code.",
            "# TYPE fixture_requests_total counter",
            f'fixture_requests_total{{code="200",method="get"}} {n * 7}',
            f'fixture_requests_total{{code="500",method="get"}} {n // 3}',
            f'fixture_requests_total{{code="200",method="post"}} {n * 2.5}',
            "# HELP fixture_temperature_celsius Room temperature.",
            "# TYPE fixture_temperature_celsius gauge",
            f'fixture_temperature_celsius{{room="a"}} {20 + 3 * math.sin(n / 5):.6f}',
            f'fixture_temperature_celsius{{room="b"}} {-4.25 + n % 4}',
            "# HELP fixture_queue_bytes Bytes waiting in the queue.",
            "# TYPE fixture_queue_bytes gauge",
            "# UNIT fixture_queue_bytes bytes",
            f"fixture_queue_bytes {1e9 + n * 1234.5}",
            "# HELP fixture_build_info Build information.",
            "# TYPE fixture_build_info gauge",
            'fixture_build_info{version="1.2.3",goversion="go1.19"} 1',
            "# HELP fixture_request_duration_seconds Request latency.",
            "# TYPE fixture_request_duration_seconds histogram",
        ]
        total = 0
        for i, le in enumerate(["0.005", "0.01", "0.1", "0.5", "1", "+Inf"]):
            total += n * (i + 1) if le != "+Inf" else n
            lines.append(f'fixture_request_duration_seconds_bucket{{le="{le}"}} {total}')
        lines.append(f"fixture_request_duration_seconds_sum {n * 0.75}")
        lines.append(f"fixture_request_duration_seconds_count {total}")
        return "\n".join(lines) + "\n"

    def stop(self):
        self.pages.stop()


def quietest_phase(timestamps_ms):
    """The residue modulo 500 ms farthest from every timestamp's residue, and that distance.
    Scrapes land on a fixed offset plus whole seconds, give or take jitter."""
    residues = sorted({t % 500 for t in timestamps_ms})
    best, margin = 0, -1
    for a, b in zip(residues, residues[1:] + [residues[0] + 500]):
        if (b - a) // 2 > margin:
            best, margin = (a + (b - a) // 2) % 500, (b - a) // 2
    return best, margin


class Tally:
    """The cases' outcomes, one line each, then "<title>: N passed, M failed"."""

    def __init__(self, title):
        self.title = title
        self.passed, self.failed, self.skipped = 0, [], 0

    def ok(self, name, detail):
        self.passed += 1
        print(f"ok    {name} ({detail})")

    def fail(self, name, request, diff):
        self.failed.append(name)
        print(f"FAIL  {name}: {request}\n      {diff}")

    def skip(self, name, why):
        self.skipped += 1
        print(f"SKIP  {name}: {why}")

    def exit_code(self):
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        print(f"{self.title}: {self.passed} passed, {len(self.failed)} failed{skipped}")
        return 1 if self.failed else 0


class Pair:
    def __init__(self, build_dir, work):
        self.build_dir = build_dir
        self.work = work
        self.exporter = None
        self.kiln = None
        self.prom = None
        self.scraper = None
        self.sync_ms = None
        self.phase_ms = None  # evaluation times are phase_ms + k * 500 ms
        self.first_ms = None  # the first scrape's timestamp

    def start(self, min_seconds=25, timeout=120):
        self.exporter = FixtureExporter()
        self.kiln = e2e.kiln(self.build_dir, os.path.join(self.work, "kiln-data"),
                             os.path.join(self.work, "kiln.log"))
        self.kiln.wait_ready()
        config = os.path.join(self.work, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ["127.0.0.1:{self.exporter.port}"]
        labels: {{env: "e2e"}}
remote_write:
  - url: {self.kiln.url}/api/v1/write
    queue_config: {{batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 500ms}}
    metadata_config: {{send: true, send_interval: 1s}}
""")
        self.prom = e2e.prometheus(os.path.join(self.work, "prom-data"), config,
                                   os.path.join(self.work, "prometheus.log"))
        # A second Kiln scrapes the same target itself, for what only scrapes produce
        # (per-target metadata): same job, same instance label as Prometheus's.
        with open(config) as src:
            scrape_config = e2e.write_file(os.path.join(self.work, "scraper", "prometheus.yml"),
                                           src.read().split("remote_write:")[0])
        self.scraper = e2e.kiln(self.build_dir, os.path.join(self.work, "scraper", "data"),
                                os.path.join(self.work, "scraper", "kiln.log"),
                                config=scrape_config, receiver=False)
        self.prom.wait_ready()
        self.scraper.wait_ready()
        # The data the cases query: at least min_seconds of scrapes (a span, not a guess at
        # speed; _wait_in_sync then polls until Kiln holds all of it).
        time.sleep(min_seconds)
        self.sync_ms = self._wait_in_sync(timeout)
        return self

    def _wait_in_sync(self, timeout):
        """Waits until Kiln returns exactly Prometheus's raw samples over the last hour up to
        a recent time; returns that time (ms). Also picks the evaluation phase (see
        eval_time_ms) from the scrape timestamps."""
        deadline = time.time() + timeout
        sync_s = time.time() - 2
        last = None
        while time.time() < deadline:
            params = [("query", '{__name__=~".+"}[1h]'), ("time", f"{sync_s:.3f}")]
            want = get_json(self.prom.url, "/api/v1/query", params)
            got = get_json(self.kiln.url, "/api/v1/query", params)
            key = lambda s: json.dumps(s["metric"], sort_keys=True)  # noqa: E731
            want_map = {key(s): s["values"] for s in want["result"]}
            got_map = {key(s): s["values"] for s in got["result"]}
            if want_map and want_map == got_map:
                ts = [v[0] for v in next(s for s in want["result"]
                                         if s["metric"]["__name__"] == "up")["values"]]
                self.phase_ms, margin = quietest_phase(round(t * 1000) for t in ts)
                if margin < 20:
                    raise AssertionError(f"no evaluation phase keeps 20 ms from every scrape "
                                         f"(best {margin} ms): {ts}")
                self.first_ms = round(min(ts) * 1000)
                return int(sync_s * 1000)
            last = (len(want_map), len(got_map),
                    sorted(set(want_map) ^ set(got_map))[:3])
            if not want_map:  # no scrape before sync_s yet: wait for a later one
                sync_s = time.time() - 2
            time.sleep(0.5)
        raise AssertionError(f"Kiln never caught up with Prometheus: {last}\n"
                             f"{self.kiln.read_log()[-3000:]}")

    def case_times(self):
        """(t, start, end) as the cases' strings (seconds): an instant query time in the
        evaluation phase at the sync point, and a range of up to 60 s ending at it whose
        windows of up to 10 s start after the first scrape."""
        t_ms = self.eval_time_ms(self.sync_ms)
        t = f"{t_ms / 1000:.3f}"
        return t, f"{self.range_start_ms(t_ms, 60, 10) / 1000:.3f}", t

    def eval_time_ms(self, before_ms):
        """The latest time at or before `before_ms` in the evaluation phase: every multiple of
        500 ms before it stays clear of every scrape timestamp, so neither it nor any window
        of whole or half seconds ending at it touches a sample, and Prometheus 2.42's closed
        windows and Kiln's left-open ones (3.x) select the same samples."""
        return before_ms - ((before_ms - self.phase_ms) % 500)

    def range_start_ms(self, end_ms, want_s, window_s):
        """The start of a range ending at end_ms: want_s seconds long, but no earlier than
        window_s after the first scrape. Prometheus 3.x changed how rate() extrapolates
        towards a counter's zero point when a window starts well before its first sample
        (2.42 caps the gap at the zero point before testing it against the extrapolation
        threshold, 3.x tests first and then caps); Kiln follows 3.x, so windows reaching
        back past the first scrape would legitimately differ."""
        start = max(end_ms - want_s * 1000, self.first_ms + window_s * 1000 + 1000)
        return self.eval_time_ms(start + 499)

    def stop(self):
        for srv in (self.prom, self.kiln, self.scraper):
            if srv is not None:
                srv.stop()
        if self.exporter is not None:
            self.exporter.stop()


def main(main_fn, prefix):
    """The test's entry point (e2e_lib.main): skips when Debian's Prometheus is missing,
    otherwise runs main_fn(pair) on a started pair and cleans up; exits with its code."""
    def body(args, work):
        pair = Pair(args.build_dir, work)
        try:
            pair.start()
            return main_fn(pair)
        finally:
            pair.stop()

    sys.exit(e2e.main(body, prefix, needs=(PROMETHEUS, PROMTOOL)))
