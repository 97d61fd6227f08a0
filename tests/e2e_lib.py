"""Shared helpers for Kiln's end-to-end tests (and the compliance harness): real servers on
free loopback ports, polled readiness, HTTP calls, remote_write, promtool-format dumps, and a
`main` that gives every test its own temp directory and leaves no process or directory behind.

CI runs two of these tests at once on a loaded two-core machine, so nothing here assumes
speed: every wait is a poll against a generous deadline, a port another process grabbed
between our pick and the server's bind is retried on a new port, and every child process is
killed when the test ends, however it ends (finally, atexit, SIGTERM, or the parent's death
through PR_SET_PDEATHSIG when the test itself is killed)."""

import argparse
import atexit
import glob
import gzip
import http.server
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "compliance"))
import promwrite  # noqa: E402

SKIP = 77  # CTest SKIP_RETURN_CODE
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"

# Waits are deadlines, not estimates: a healthy run returns long before them.
READY_TIMEOUT_S = 120
BIND_RETRIES = 5


class ServerError(RuntimeError):
    """A server process exited or never became ready."""


def free_port():
    """A port nothing listens on right now. Another process may still take it before ours
    binds it: Server retries on a new port when that happens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reserved_port():
    """(socket, port): a port bound but never listened on, so connections to it are refused
    for as long as the socket stays open, and no other process can take it meanwhile (a
    target that must stay down)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def wait_until(check, timeout, what, interval=0.2):
    """Calls check() until it returns something truthy and returns that; raises
    AssertionError naming `what` (a string, or a callable giving the last state) at the
    deadline."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() >= deadline:
            detail = what() if callable(what) else what
            raise AssertionError(f"not within {timeout}s: {detail}")
        time.sleep(interval)


# --- processes ---------------------------------------------------------------------------

_running = set()  # servers started and not stopped: stopped at exit whatever happens
_started = []  # every server of this run, for the log tails a failure prints
# setpriv (util-linux) makes the kernel kill the server when this test process dies, even by
# SIGKILL (CTest's timeout), where no finally or atexit runs. The kernel ties it to the
# thread that started the server: start servers from the main thread.
_DEATHSIG = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] \
    if os.path.exists("/usr/bin/setpriv") else []


def answers_200(path):
    """A readiness probe for Server: GET <url><path> answers 200."""
    def probe(server):
        try:
            with urllib.request.urlopen(server.url + path, timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False
    return probe


class Server:
    """A server process listening on a loopback port chosen here. `argv` is a list whose
    "{port}" placeholders become the port, or a function of the port returning the list.
    Readiness is GET <url><route_prefix>/-/ready answering 200, or `probe(server)` returning
    true. Until wait_ready() returns, port and url may still change (see wait_ready)."""

    def __init__(self, argv, log_path, name=None, route_prefix="", probe=None):
        self.argv_fn = argv if callable(argv) else (
            lambda port: [a.replace("{port}", str(port)) for a in argv])
        self.log_path = log_path
        self.name = name or os.path.basename(log_path).rsplit(".", 1)[0]
        self.probe = probe or answers_200(route_prefix + "/-/ready")
        self.proc = None
        self.log = None
        _started.append(self)
        self._spawn()

    def _spawn(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if self.log is None or self.log.closed:
            self.log = open(self.log_path, "a")
        self._log_start = self.log.tell()
        self.proc = subprocess.Popen(_DEATHSIG + self.argv_fn(self.port), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        _running.add(self)

    def wait_ready(self, timeout=READY_TIMEOUT_S):
        """Polls until the server is ready. A server that exits because its port was taken
        meanwhile (by a server of a test running next to this one) starts again on a new
        port; any other exit is a ServerError with the log."""
        deadline = time.monotonic() + timeout
        retries = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.flush()
                with open(self.log_path, errors="replace") as f:
                    f.seek(self._log_start)
                    this_run = f.read()
                if "address already in use" in this_run.lower() and retries < BIND_RETRIES:
                    retries += 1
                    print(f"{self.name}: port {self.port} taken meanwhile, retrying on another")
                    self._spawn()
                    continue
                _running.discard(self)
                raise ServerError(f"{self.name} exited with {self.proc.returncode}:\n"
                                  f"{self.log_tail()}")
            if self.probe(self):
                return self
            time.sleep(0.1)
        raise ServerError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, chars=3000):
        return self.read_log()[-chars:]

    def died(self):
        """True when the process ended without being stopped here."""
        return self in _running and self.proc.poll() is not None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        _running.discard(self)

    def stop(self, timeout=60):
        """SIGTERM, then SIGKILL after `timeout` s; returns the exit code. Idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        _running.discard(self)
        return self.proc.returncode


def stop_all():
    for srv in list(_running):
        srv.stop(timeout=10)


atexit.register(stop_all)


def minimal_config(directory, name="prometheus.yml"):
    """Writes a prometheus.yml with no scrape jobs into `directory` and returns its path."""
    return write_file(os.path.join(directory, name), "global:\n  scrape_interval: 1h\n")


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def kiln(build_dir, data_dir, log_path, extra=(), config=None, receiver=True, **server_kw):
    """A kiln server (not yet ready) on `config`, or on a config without scrape jobs;
    server_kw goes to Server."""
    config = config or minimal_config(os.path.dirname(os.path.abspath(log_path)))
    return Server([os.path.join(build_dir, "bin", "kiln"), f"--config.file={config}",
                   f"--storage.tsdb.path={data_dir}", "--web.listen-address=127.0.0.1:{port}",
                   *(["--web.enable-remote-write-receiver"] if receiver else []), *extra],
                  log_path, **server_kw)


def prometheus(data_dir, config, log_path, extra=(), receiver=True, **server_kw):
    """Debian's Prometheus 2.42 (not yet ready) on `config`; server_kw goes to Server."""
    return Server([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
                   "--web.listen-address=127.0.0.1:{port}",
                   *(["--web.enable-remote-write-receiver"] if receiver else []),
                   "--log.level=warn", *extra], log_path, **server_kw)


# --- the test's main ---------------------------------------------------------------------

def main(body, prefix, needs=(PROMETHEUS,), add_args=None):
    """Parses --build-dir (and what add_args adds), skips (exit 77) when a file in `needs`
    is missing, runs body(args, work) in a fresh temp directory and returns its exit code
    (None counts as 0). Whatever happens, the servers are stopped and the directory removed;
    on a failure the tail of every server log is printed first. KILN_E2E_KEEP=1 keeps the
    directory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    if add_args:
        add_args(ap)
    args = ap.parse_args()
    args.kiln = os.path.join(args.build_dir, "bin", "kiln")
    args.kilntool = os.path.join(args.build_dir, "bin", "kilntool")
    for need in needs:
        if not os.path.exists(need):
            print(f"SKIP: {need} is not installed")
            return SKIP
    # A SIGTERM (someone stopping the run) unwinds, so finally blocks run. CTest's TIMEOUT
    # is a SIGKILL: the parent-death signal and remove_orphaned_dirs cover that one.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    remove_orphaned_dirs(prefix)
    work = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")
    rc = 1
    try:
        rc = body(args, work) or 0
        return rc
    finally:
        stop_all()
        if rc != 0:
            for srv in _started:
                if os.path.exists(srv.log_path):
                    print(f"--- {srv.name} log ({srv.log_path}), last lines:\n"
                          f"{srv.log_tail(2000)}")
        if os.environ.get("KILN_E2E_KEEP"):
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def remove_orphaned_dirs(prefix):
    """Removes the temp directories of earlier runs of this test that were killed before
    they could remove their own (SIGKILL): main() names its directory after its pid, and a
    directory whose process is gone is no one's (runs sharing a /tmp are assumed to share a
    pid namespace, as CI's and a developer's do)."""
    base = os.path.join(tempfile.gettempdir(), prefix)
    for path in glob.glob(glob.escape(base) + "*-*"):
        pid = path[len(base):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass  # alive, someone else's


# --- HTTP --------------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # an email.message.Message: case-insensitive get()
        self.body = body  # bytes, gunzipped when the server gzipped them

    @property
    def text(self):
        return self.body.decode(errors="replace")

    @property
    def content_type(self):
        return self.headers.get("Content-Type", "")

    @property
    def encoding(self):
        return self.headers.get("Content-Encoding", "")


def request(url, method="GET", data=None, headers=None, timeout=30):
    """One HTTP request; an error status is an answer too, not an exception."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})

    def answer(status, r):
        body = r.read()
        if r.headers.get("Content-Encoding", "") == "gzip":
            body = gzip.decompress(body)
        return Response(status, r.headers, body)

    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return answer(r.status, r)
    except urllib.error.HTTPError as e:
        return answer(e.code, e)


def http_call(base, path, params=(), method="GET", timeout=30, gzip_ok=False):
    """Sends one API request; `params` is a list of (name, value) pairs, sent in the URL for
    GET and as a form body for POST. With gzip_ok the request says Accept-Encoding: gzip (as
    Go's HTTP client, and so Grafana's backend, does) and a gzipped answer is decoded.
    Returns (HTTP status, body text, Content-Type, Content-Encoding)."""
    query = urllib.parse.urlencode(list(params))
    url, data, headers = base + path, None, {}
    if method == "GET":
        if query:
            url += "?" + query
    else:
        data = query.encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if gzip_ok:
        headers["Accept-Encoding"] = "gzip"
    r = request(url, method, data, headers, timeout)
    return r.status, r.body.decode(), r.content_type, r.encoding


def get_json(base, path, params=(), **kwparams):
    """GET base+path with `params` (pairs or a dict) and keyword params; asserts HTTP 200 and
    status "success" and returns "data"."""
    pairs = list(params.items() if isinstance(params, dict) else params) + list(kwparams.items())
    status, body, _, _ = http_call(base, path, pairs)
    if status != 200:
        raise AssertionError(f"{base}{path} {pairs}: HTTP {status}: {body[:500]}")
    doc = json.loads(body)
    if doc.get("status") != "success":
        raise AssertionError(f"{base}{path} {pairs}: {body[:500]}")
    return doc["data"]


def self_metric(url, name):
    """The value of `name` (first series) on the server's own /metrics, None if absent."""
    for line in request(url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


class PageServer:
    """An exporter in this process: `pages` maps a URL path to a function returning
    (body text, Content-Type). Other paths answer 404. Listens on a port the kernel picks."""

    def __init__(self, pages):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                page = pages.get(urllib.parse.urlparse(self.path).path)
                if page is None:
                    self.send_error(404)
                    return
                body, ctype = page()
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


# --- remote_write and dumps ----------------------------------------------------------------

def random_batches(seed, n_requests, n_series=40, samples_per_series=3, start_ms=None):
    """Yields lists of (labels, samples) in a valid order: per series, strictly increasing
    timestamps across requests. Values include NaN-free floats of varied magnitude."""
    rng = random.Random(seed)
    start_ms = start_ms if start_ms is not None else int(time.time() * 1000) - 3600 * 1000
    names = [f"e2e_metric_{i}" for i in range(5)]
    series = []
    for i in range(n_series):
        series.append([("__name__", names[i % 5]), ("instance", f"host-{i // 5}"), ("job", "e2e"),
                       ("series", str(i))])
    t = start_ms
    for _ in range(n_requests):
        batch = []
        for labels in rng.sample(series, k=max(1, n_series // 2)):
            pts = []
            for k in range(samples_per_series):
                v = rng.choice([rng.uniform(-1e6, 1e6), float(rng.randint(0, 1000)), 0.25 * k])
                pts.append((t + k * 1000, v))
            batch.append((labels, pts))
        yield batch
        t += samples_per_series * 1000 + rng.randint(1, 999)


def send(url, batch):
    return promwrite.post(url + "/api/v1/write", promwrite.encode_write_request(batch))


def ack_all(url, batches):
    """Sends every batch; each must be acknowledged (2xx). Returns the batches."""
    batches = list(batches)
    for b in batches:
        status, text = send(url, b)
        assert status // 100 == 2, f"remote_write answered {status}: {text}"
    return batches


def expected_set(batches):
    out = set()
    for batch in batches:
        for labels, pts in batch:
            key = "{" + ", ".join(f'{n}="{v}"' for n, v in labels) + "}"
            for t, v in pts:
                out.add((key, float(v), t))
    return out


def parse_dump(text):
    """Parses promtool's `tsdb dump` lines: `{labels} value timestamp_ms`."""
    out = set()
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        labels, rest = line.rsplit("} ", 1)
        value, ts = rest.split(" ")
        out.add((labels + "}", float(value), int(ts)))
    return out


def dump(tool, data_dir):
    """Runs `<tool> tsdb dump data_dir` and returns the parsed set."""
    os.makedirs(os.path.join(data_dir, "wal"), exist_ok=True)  # promtool 2.42 insists on it
    r = subprocess.run([tool, "tsdb", "dump", data_dir], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"{tool} tsdb dump failed ({r.returncode}): {r.stderr[-2000:]}")
    return parse_dump(r.stdout)


def assert_dumps(kilntool, data_dir, want, what):
    """promtool's and kilntool's `tsdb dump` of data_dir both hold exactly `want`."""
    for name, tool in (("promtool", PROMTOOL), ("kilntool", kilntool)):
        got = dump(tool, data_dir)
        assert got == want, diff(f"{name} dump of {what}", want, got)


def report(failures, passed="PASS"):
    """Prints the failures (or `passed`) and returns the test's exit code."""
    if failures:
        print("FAIL:\n" + "\n".join(failures))
        return 1
    print(passed)
    return 0


def diff(what, want, got):
    """Describes how two sets of samples differ (for an assertion message)."""
    missing = sorted(want - got)[:5]
    extra = sorted(got - want)[:5]
    return (f"{what}: {len(want)} expected, {len(got)} got; "
            f"missing e.g. {missing}; extra e.g. {extra}")
