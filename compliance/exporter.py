"""The demo generator served live as an HTTP exporter, for the compliance suite's live check.

Each demo instance (demo.Instance) answers GET /metrics in the Prometheus text format (0.0.4)
with HELP and TYPE lines, as a real exporter does. A ticker thread advances every instance's
state once per tick and renders the page; scrapes return the page of the last tick. Rendering
once per tick, not once per request, matters: both servers then read the same values however
their scrapes interleave, and the state's random walk does not depend on how often it is
scraped.

Every scraper (a "client") gets its own loopback port per instance, so the exporter knows who
asked without trusting headers (Kiln sends Prometheus 2.42's User-Agent). Each
scrape it answers is logged as a Scrape: when, for whom, which instance, the HTTP status and
exactly which samples the page exposed. The live check compares what each server stored
with the pages it was served, which no scheduling delay can blur.

The harness drives what the live check needs to exercise:
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
INTERMITTENT = "demo_intermittent_metric"
# Instance 1's copy of the intermittent metric carries the tick's timestamp, as exporters of
# forwarded data do. A scraper honouring timestamps writes no stale marker for such a series
# (Prometheus's default, track_timestamps_staleness off), so it outlives its disappearance
# by the lookback delta instead of vanishing at the next scrape.
TIMESTAMPED = "demo_intermittent_timestamped_metric"
TIMESTAMPED_INSTANCE = 1


def _escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _line(name, labels, value, timestamp_ms=None):
    """One sample line; labels are (name, value) pairs in order."""
    body = "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}" if labels else ""
    ts = "" if timestamp_ms is None else f" {timestamp_ms}"
    return f"{name}{body} {demo.fmt(float(value))}{ts}\n"


TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
OPENMETRICS_INSTANCE = 0
_TIMESTAMPED_HELP = "The intermittent metric, with timestamps."


def _header(family, openmetrics, help_=None):
    typ, default_help = demo.METADATA.get(family, ("gauge", ""))
    help_ = help_ or default_help
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


def exposed_samples(samples):
    """The samples of one snapshot of an instance (demo.Instance.samples(), which draws
    random numbers: take it once per tick) that its page exposes, without the intermittent
    metric: a tuple of (name, labels as sorted (name, value) pairs, value, None)."""
    return tuple((name, tuple(sorted(labels.items())), float(value), None)
                 for name, labels, value in samples if name not in _NOT_EXPOSED)


def render(exposed, openmetrics=False):
    """exposed (see Scrape.samples) as a page, grouped by family; for OpenMetrics without
    the closing # EOF, which _page() adds."""
    out = []
    family = None
    for name, labels, value, timestamp_ms in exposed:
        fam = demo.family_of(name)
        if fam != family:
            out.append(_header(fam, openmetrics, _TIMESTAMPED_HELP if fam == TIMESTAMPED else None))
            family = fam
        out.append(_line(name, labels, value, timestamp_ms))
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


class Scrape:
    """One scrape the exporter answered, as the live check replays it."""

    __slots__ = ("time", "client", "index", "user_agent", "accept", "status", "tick",
                 "intermittent", "_base", "_extra")

    def __init__(self, time_s, client, index, user_agent, accept, status, tick, intermittent,
                 base, extra):
        self.time = time_s  # when the page was chosen (time.time())
        self.client = client
        self.index = index  # of the instance, in demo.INSTANCES order
        self.user_agent = user_agent
        self.accept = accept
        self.status = status  # 200, or 503 while the instance fails
        self.tick = tick  # which tick's state was served (counts up from 0; frozen: constant)
        self.intermittent = intermittent  # whether the intermittent metric was on the page
        self._base = base
        self._extra = extra

    def samples(self):
        """Every sample the page exposed, in page order: (name, labels as sorted (name,
        value) pairs, value, explicit timestamp in ms or None); () for a failed scrape."""
        return self._base + self._extra

    def __repr__(self):
        return (f"Scrape({self.time:.3f}, {self.client!r}, instance {self.index}, "
                f"{self.status}, tick {self.tick}, intermittent {self.intermittent})")


class _Snapshot:
    """One tick's state of one instance: its exposed samples and both renderings."""

    def __init__(self, tick, tick_ms, exposed, with_openmetrics):
        self.tick = tick
        self.tick_ms = tick_ms
        self.exposed = exposed
        self.text = render(exposed)
        self.openmetrics = render(exposed, openmetrics=True) if with_openmetrics else None


class DemoExporter:
    """Three demo instances served on loopback ports, once per client (module comment)."""

    def __init__(self, tick_s=1.0, clients=("scraper",)):
        self._tick_s = tick_s
        self.started = time.time()
        start_ms = int(self.started * 1000)
        self._instances = [demo.Instance(i, start_ms) for i in range(len(demo.INSTANCES))]
        self._lock = threading.Lock()
        self._tick = 0
        self._snapshots = [self._snapshot(i, start_ms) for i in range(len(self._instances))]
        self._intermittent = True
        self._failing = set()
        self._frozen = False
        self._stop = threading.Event()
        self._requests = {}  # (User-Agent, Accept) -> count
        self._log = []  # every Scrape, in the order answered
        self.clients = tuple(clients)
        self._servers = {(c, i): self._make_server(c, i)
                         for c in self.clients for i in range(len(self._instances))}
        self._threads = []

    def _make_server(self, client, index):
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as scrapers expect of an exporter

            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] != "/metrics":
                    self._reply(404, "text/plain; charset=utf-8", b"not found\n", False)
                    return
                h = self.headers
                status, ctype, body = exporter._page(
                    client, index, h.get("User-Agent", ""), h.get("Accept", ""))
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

    def _snapshot(self, index, tick_ms):
        exposed = exposed_samples(self._instances[index].samples())
        return _Snapshot(self._tick, tick_ms, exposed, index == OPENMETRICS_INSTANCE)

    def _page(self, client, index, user_agent, accept):
        """(HTTP status, Content-Type, body) of one scrape, which it logs."""
        with self._lock:
            key = (user_agent, accept)
            self._requests[key] = self._requests.get(key, 0) + 1
            snap = self._snapshots[index]
            if index in self._failing:
                self._log.append(Scrape(time.time(), client, index, user_agent, accept, 503,
                                        snap.tick, False, (), ()))
                return (503, "text/plain; charset=utf-8",
                        "demo instance failing on purpose (compliance live check)\n")
            extra = ()
            if self._intermittent:
                extra = ((INTERMITTENT, (), 1.0, None),)
                if index == TIMESTAMPED_INSTANCE:
                    extra += ((TIMESTAMPED, (), 1.0, snap.tick_ms),)
            self._log.append(Scrape(time.time(), client, index, user_agent, accept, 200,
                                    snap.tick, self._intermittent, snap.exposed, extra))
            openmetrics = snap.openmetrics is not None and wants_openmetrics(accept)
            page = (snap.openmetrics if openmetrics else snap.text) + render(extra, openmetrics)
            if openmetrics:
                return 200, OPENMETRICS_TYPE, page + "# EOF\n"
            return 200, TEXT_TYPE, page

    def _ticker(self):
        while not self._stop.wait(self._tick_s):
            with self._lock:
                if self._frozen:
                    continue
                now_ms = int(time.time() * 1000)
                self._tick += 1
                for i, inst in enumerate(self._instances):
                    inst.advance(now_ms)
                    self._snapshots[i] = self._snapshot(i, now_ms)

    def addresses(self, client=None):
        """host:port of each instance for a client (the only one by default), in
        demo.INSTANCES order."""
        if client is None:
            (client,) = self.clients
        return [f"127.0.0.1:{self._servers[(client, i)].server_address[1]}"
                for i in range(len(self._instances))]

    def start(self):
        for s in self._servers.values():
            t = threading.Thread(target=s.serve_forever, daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._ticker, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self):
        self._stop.set()
        for s in self._servers.values():
            s.shutdown()
            s.server_close()

    def scrapes(self):
        """Scrapes answered so far per instance, over all clients."""
        counts = [0] * len(self._instances)
        for s in self.scrape_log():
            counts[s.index] += 1
        return counts

    def scrape_log(self):
        """Every Scrape answered so far, in order."""
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
