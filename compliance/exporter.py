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
"""

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


def _escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _line(name, labels, value):
    if labels:
        body = ",".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels))
        return f"{name}{{{body}}} {demo.fmt(float(value))}\n"
    return f"{name} {demo.fmt(float(value))}\n"


def _header(family):
    typ, help_ = demo.METADATA[family]
    return f"# HELP {family} {help_}\n# TYPE {family} {typ}\n"


def render(instance):
    """The instance's current state as a text-format page, grouped by family."""
    out = []
    family = None
    for name, labels, value in instance.samples():
        if name in _NOT_EXPOSED:
            continue
        fam = demo.family_of(name)
        if fam != family:
            out.append(_header(fam))
            family = fam
        out.append(_line(name, labels, value))
    return "".join(out)


class DemoExporter:
    """Three demo instances served on loopback ports (see the module comment)."""

    def __init__(self, tick_s=1.0):
        self._tick_s = tick_s
        start_ms = int(time.time() * 1000)
        self._instances = [demo.Instance(i, start_ms) for i in range(len(demo.INSTANCES))]
        self._lock = threading.Lock()
        self._pages = [render(i) for i in self._instances]
        self._intermittent = True
        self._failing = set()
        self._frozen = False
        self._stop = threading.Event()
        self._scrapes = [0] * len(self._instances)
        self._servers = [self._make_server(i) for i in range(len(self._instances))]
        self._threads = []

    def _make_server(self, index):
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as scrapers expect of an exporter

            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] != "/metrics":
                    self._reply(404, "text/plain; charset=utf-8", "not found\n")
                    return
                status, body = exporter._page(index)
                self._reply(status, "text/plain; version=0.0.4; charset=utf-8", body)

            def _reply(self, status, ctype, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        return server

    def _page(self, index):
        with self._lock:
            self._scrapes[index] += 1
            if index in self._failing:
                return 503, "demo instance failing on purpose (compliance live check)\n"
            page = self._pages[index]
            if self._intermittent:
                page += _header(_INTERMITTENT) + _line(_INTERMITTENT, {}, 1.0)
            return 200, page

    def _tick(self):
        while not self._stop.wait(self._tick_s):
            with self._lock:
                if self._frozen:
                    continue
                now_ms = int(time.time() * 1000)
                for i, inst in enumerate(self._instances):
                    inst.advance(now_ms)
                    self._pages[i] = render(inst)

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
