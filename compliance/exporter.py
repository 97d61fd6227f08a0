"""The demo generator served live as an HTTP exporter, for the compliance suite's live check.

Each demo instance (demo.Instance) gets its own loopback port and answers GET /metrics in the
Prometheus text format (0.0.4) with HELP and TYPE lines, as a real exporter does. A ticker
thread advances every instance's state once per tick and renders the page; scrapes return the
page of the last tick. Rendering once per tick, not once per request, matters: both servers
then read the same values however their scrapes interleave, and the state's random walk does
not depend on how often it is scraped.

The harness drives what the live check needs to exercise, and records when it did so:
- the intermittent metric comes and goes on the harness's schedule (upstream's demo shows it
  in even minutes; a schedule lets a one-minute run see it leave and come back);
- an instance can fail (HTTP 503), so scrape failures, up == 0 and the stale markers written
  for every series of a failed target are exercised;
- freeze() stops all change, so that queries evaluated late enough read only values that
  both servers scraped identically.
Flags are read per request (not per tick), so a switch takes effect at a known instant.

Content negotiation follows client_golang's promhttp handler: the body is gzipped when the
scraper accepts gzip, and instance 0 (demo.promlabs.com:10000) serves OpenMetrics 1.0.0 to a
scraper whose Accept header asks for it (promhttp with EnableOpenMetrics), while instances 1
and 2 always serve the text format (promhttp's default, and upstream's demo). Both scrapers
must then parse both formats, and ask for them the same way, to agree on the answers.
"""

import gzip
import http.server
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402

# Samples of demo.Instance.samples() that are not the exporter's to expose: a scrape adds
# up and scrape_duration_seconds itself, and the intermittent metric follows set_intermittent.
_NOT_EXPOSED = {"up", "scrape_duration_seconds", "demo_intermittent_metric"}
_INTERMITTENT = "demo_intermittent_metric"
# Instance 1's copy of the intermittent metric carries the tick's timestamp, as exporters of
# forwarded data do. A scraper honouring timestamps writes no stale marker for such a series
# (Prometheus's default, track_timestamps_staleness off), so it outlives its disappearance
# by the lookback delta instead of vanishing at the next scrape.
TIMESTAMPED = "demo_intermittent_timestamped_metric"
TIMESTAMPED_INSTANCE = 1


def _escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _line(name, labels, value):
    if labels:
        body = ",".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels))
        return f"{name}{{{body}}} {demo.fmt(float(value))}\n"
    return f"{name} {demo.fmt(float(value))}\n"


TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
OPENMETRICS_INSTANCE = 0


def _header(family, openmetrics):
    typ, help_ = demo.METADATA[family]
    if not openmetrics:
        return f"# HELP {family} {help_}\n# TYPE {family} {typ}\n"
    if typ == "counter" and family.endswith("_total"):
        # OpenMetrics names a counter family without the _total its sample carries.
        family = family[: -len("_total")]
    out = f"# HELP {family} {help_}\n# TYPE {family} {typ}\n"
    # OpenMetrics can state a unit, which must end the family's name; scrapers keep it as
    # metadata (the text format has no UNIT line).
    unit = next((u for u in ("seconds", "bytes") if family.endswith("_" + u)), None)
    if unit:
        out += f"# UNIT {family} {unit}\n"
    return out


def render(samples, openmetrics=False):
    """One snapshot of an instance's samples (demo.Instance.samples(), which draws random
    numbers: take it once per tick) as a page, grouped by family; without the intermittent
    metric and, for OpenMetrics, without the closing # EOF: _page() adds both."""
    out = []
    family = None
    for name, labels, value in samples:
        if name in _NOT_EXPOSED:
            continue
        fam = demo.family_of(name)
        if fam != family:
            out.append(_header(fam, openmetrics))
            family = fam
        out.append(_line(name, labels, value))
    return "".join(out)


def wants_openmetrics(accept):
    """Whether an Accept header asks for OpenMetrics with a q above zero."""
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if fields[0] != "application/openmetrics-text":
            continue
        q = [f for f in fields[1:] if f.startswith("q=")]
        try:
            if not q or float(q[0][2:]) > 0:
                return True
        except ValueError:
            continue
    return False


class DemoExporter:
    """Three demo instances served on loopback ports (see the module comment)."""

    def __init__(self, tick_s=1.0):
        self._tick_s = tick_s
        start_ms = int(time.time() * 1000)
        self._tick_ms = start_ms  # when the state last advanced
        self._instances = [demo.Instance(i, start_ms) for i in range(len(demo.INSTANCES))]
        self._lock = threading.Lock()
        self._pages = [self._render(i) for i in range(len(self._instances))]
        self._intermittent = True
        self._failing = set()
        self._frozen = False
        self._stop = threading.Event()
        self._scrapes = [0] * len(self._instances)
        self._requests = {}  # (User-Agent, Accept) -> count
        self._log = []  # (time, instance index, User-Agent) of every scrape
        self._servers = [self._make_server(i) for i in range(len(self._instances))]
        self._threads = []

    def _make_server(self, index):
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as scrapers expect of an exporter

            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] != "/metrics":
                    self._reply(404, "text/plain; charset=utf-8", b"not found\n", False)
                    return
                h = self.headers
                status, ctype, body = exporter._page(
                    index, h.get("User-Agent", ""), h.get("Accept", ""))
                gz = "gzip" in h.get("Accept-Encoding", "")
                self._reply(status, ctype, body.encode(), gz)

            def _reply(self, status, ctype, data, gz):
                if gz:
                    data = gzip.compress(data)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if gz:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        return server

    def _render(self, index):
        samples = list(self._instances[index].samples())
        text = render(samples)
        om = render(samples, openmetrics=True) if index == OPENMETRICS_INSTANCE else None
        return text, om

    def _page(self, index, user_agent, accept):
        """(HTTP status, Content-Type, body) of one scrape."""
        with self._lock:
            self._scrapes[index] += 1
            key = (user_agent, accept)
            self._requests[key] = self._requests.get(key, 0) + 1
            self._log.append((time.time(), index, user_agent))
            if index in self._failing:
                return (503, "text/plain; charset=utf-8",
                        "demo instance failing on purpose (compliance live check)\n")
            text, om = self._pages[index]
            openmetrics = om is not None and wants_openmetrics(accept)
            page = om if openmetrics else text
            if self._intermittent:
                page += _header(_INTERMITTENT, openmetrics) + _line(_INTERMITTENT, {}, 1.0)
                if index == TIMESTAMPED_INSTANCE:
                    page += (f"# HELP {TIMESTAMPED} The intermittent metric, with timestamps.\n"
                             f"# TYPE {TIMESTAMPED} gauge\n"
                             f"{TIMESTAMPED} 1 {self._tick_ms}\n")
            if openmetrics:
                return 200, OPENMETRICS_TYPE, page + "# EOF\n"
            return 200, TEXT_TYPE, page

    def _tick(self):
        while not self._stop.wait(self._tick_s):
            with self._lock:
                if self._frozen:
                    continue
                now_ms = int(time.time() * 1000)
                self._tick_ms = now_ms
                for i, inst in enumerate(self._instances):
                    inst.advance(now_ms)
                    self._pages[i] = self._render(i)

    def addresses(self):
        """host:port of each instance, in demo.INSTANCES order."""
        return [f"127.0.0.1:{s.server_address[1]}" for s in self._servers]

    def start(self):
        for s in self._servers:
            t = threading.Thread(target=s.serve_forever, daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._tick, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self):
        self._stop.set()
        for s in self._servers:
            s.shutdown()
            s.server_close()

    def scrapes(self):
        with self._lock:
            return list(self._scrapes)

    def scrape_log(self):
        """[(time, instance index, User-Agent)] of every scrape so far, in order."""
        with self._lock:
            return list(self._log)

    def requests(self):
        """{(User-Agent, Accept): number of scrapes} seen so far."""
        with self._lock:
            return dict(self._requests)

    def set_intermittent(self, present):
        with self._lock:
            self._intermittent = present

    def set_failing(self, index, failing):
        with self._lock:
            if failing:
                self._failing.add(index)
            else:
                self._failing.discard(index)

    def freeze(self):
        with self._lock:
            self._frozen = True
