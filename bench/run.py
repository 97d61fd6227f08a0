#!/usr/bin/python3
"""Kiln vs Prometheus 2.42, side by side, as ../shared/docs/BENCHMARKS.md prescribes.

Each workload starts each system fresh (new data directory, same flags but the port), feeds
both the identical pre-built load one after the other (A B A B …, --rounds rounds), and
reports medians and the Kiln/Prometheus ratio. Results go to bench/RESULTS.md.

Workloads (--workloads, comma-separated; default all):
  ingest   remote_write 1.0 into each server (kiln_ingest_load): samples/s, CPU, RSS
  storage  one OpenMetrics file (kiln_bench_data) backfilled by `promtool tsdb
           create-blocks-from openmetrics` and by `kilntool tsdb ...`: bytes per sample on
           disk (index included), backfill wall and CPU time
  query    the same data in both servers (blocks from each tool; Kiln falls back to
           remote_write of the identical samples when it does not open blocks), dashboard
           range queries through both HTTP APIs: median latency, results compared
  scrape   both servers scrape the same fixture targets (scrape_fixture.py) at 1 s: CPU
           seconds per million scraped samples, scrape duration p99
  startup  a data directory with a big WAL written by each server, restarted: seconds to
           /-/ready, RSS, WAL bytes per sample

Usage: bench/run.py [--build-dir build] [--rounds 3] [--workloads ingest,...] [--quick]
"""

import argparse
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
SYSTEMS = ("prometheus", "kiln")
ALL_WORKLOADS = ("ingest", "storage", "query", "scrape", "startup")
SERIES_PER_INSTANCE = 100  # kiln_bench_data's shape
DATA_INTERVAL_S = 15


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(r, n)) for r, _, files in os.walk(d) for n in files)


class Process:
    """A server under measurement: CPU seconds from /proc/<pid>/stat, peak RSS from VmHWM."""

    def __init__(self, argv, log_path):
        self.log = open(log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def _status_kib(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0

    def peak_rss_bytes(self):
        return self._status_kib("VmHWM:") * 1024

    def rss_bytes(self):
        return self._status_kib("VmRSS:") * 1024

    def wait_ready(self, url, timeout=600):
        """Seconds from process start until /-/ready answers 200."""
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - self.started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"not ready after {timeout}s; see {self.log.name}")

    def stop(self):
        """SIGTERM, then SIGKILL after two minutes; returns the exit code (negative: signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Server:
    """A started server: the process, its port and a keep-alive HTTP connection."""

    def __init__(self, system, args, work, data_dir, config, tag):
        self.system = system
        self.tag = tag
        self.incidents = args.incidents
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.proc = Process(server_argv(system, args.build_dir, data_dir, self.port, config),
                            os.path.join(work, f"{system}-{tag}.log"))
        self.conn = None

    def wait_ready(self):
        return self.proc.wait_ready(self.url)

    def get(self, path, params):
        """GET path?params; returns (seconds, decoded JSON). Raises on a non-success answer."""
        url = path + "?" + urllib.parse.urlencode(params)
        for attempt in (1, 2):
            reused = self.conn is not None
            if not reused:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", url)
                resp = self.conn.getresponse()
                body = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection (cpp-httplib does after 5
                # s); like Go's and browsers' clients, retry once on a new connection.
                self.conn.close()
                self.conn = None
                if not reused or attempt == 2:
                    raise
        secs = time.perf_counter() - t0
        doc = json.loads(body)
        if resp.status != 200 or doc.get("status") != "success":
            raise RuntimeError(f"{self.system} {url}: HTTP {resp.status}: {body[:300]!r}")
        return secs, doc

    def instant(self, query, at=None):
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.get("/api/v1/query", params)[1]["data"]["result"]

    def scalar(self, query, at=None):
        """The single value of a one-element vector result; None when empty."""
        res = self.instant(query, at)
        return float(res[0]["value"][1]) if res else None

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        rc = self.proc.stop()
        if rc != 0:  # both servers exit 0 on SIGTERM; anything else is a finding to report
            with open(self.proc.log.name, errors="replace") as f:
                tail = " / ".join(f.read().strip().splitlines()[-3:])[-400:]
            self.incidents.append(f"{self.system} ({self.tag} workload) exited with status {rc} "
                                  f"on SIGTERM; log tail: `{tail}`")


def server_argv(system, build_dir, data_dir, port, config):
    common = [f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
              f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
              "--log.level=warn"]
    if system == "prometheus":
        return ["/usr/bin/prometheus"] + common
    return [os.path.join(build_dir, "bin", "kiln")] + common


def run_measured(argv, log_path):
    """Runs a command to completion: wall seconds, CPU seconds (user+sys), peak RSS bytes."""
    with open(log_path, "w") as log:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(log_path) as f:
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {f.read()[-500:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024


def medians(runs, figures):
    """rows (label, prometheus median, kiln median) for each (key, label) in figures."""
    return [(label, statistics.median(x[key] for x in runs["prometheus"]),
             statistics.median(x[key] for x in runs["kiln"])) for key, label in figures]


# ---------------------------------------------------------------------------------- ingest

def ingest_once(system, args, work):
    data = tempfile.mkdtemp(prefix=f"{system}-", dir=work)
    s = Server(system, args, work, data, os.path.join(work, "empty.yml"), "ingest")
    try:
        s.wait_ready()
        cpu0 = s.proc.cpu_seconds()
        out = subprocess.run(
            [os.path.join(args.build_dir, "bin", "kiln_ingest_load"), f"--port={s.port}",
             f"--series={args.series}", f"--rounds={args.ingest_rounds}", "--senders=4"],
            capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{system} ingest failed: {out.stdout}{out.stderr}")
        res = json.loads(out.stdout)
        cpu = s.proc.cpu_seconds() - cpu0
        return {
            "samples_per_second": res["samples_per_second"],
            "cpu_s_per_million": cpu / (res["samples"] / 1e6),
            "peak_rss_mib": s.proc.peak_rss_bytes() / 2**20,
            "rss_per_series_kib": s.proc.peak_rss_bytes() / 1024 / args.series,
        }
    finally:
        s.stop()
        shutil.rmtree(data, ignore_errors=True)


INGEST_FIGURES = [
    ("samples_per_second", "samples/s accepted (higher is better)"),
    ("cpu_s_per_million", "CPU s per million samples"),
    ("peak_rss_mib", "peak RSS (MiB)"),
    ("rss_per_series_kib", "peak RSS per series (KiB)"),
]


def run_ingest(args, work):
    runs = {"prometheus": [], "kiln": []}
    for r in range(args.rounds):
        for system in SYSTEMS:
            res = ingest_once(system, args, work)
            print(f"ingest round {r + 1} {system}: {json.dumps(res)}", flush=True)
            runs[system].append(res)
    title = (f"ingest — remote_write 1.0, {args.series:,} series x {5 * args.ingest_rounds} samples, "
             f"1000 series x 5 samples per request, 4 concurrent senders (one load-generator "
             f"process, kiln_ingest_load)")
    return title, medians(runs, INGEST_FIGURES), []


# ------------------------------------------------------------------ the shared data set

class DataSet:
    """An OpenMetrics file of kiln_bench_data and each tool's blocks of it, made once per run.

    end_ago_s: how long before now the data ends (whole seconds)."""

    def __init__(self, args, work, name="data", instances=None, hours=None, end_ago_s=60):
        self.args = args
        self.work = work
        self.instances = instances or args.data_instances
        self.hours = hours or args.data_hours
        self.series = self.instances * SERIES_PER_INSTANCE
        # Ten minutes more than the longest query window: every step of a query sees a full
        # 5m rate window. Right at a series' start, Prometheus 2.42 and 3.x (which Kiln
        # follows) extrapolate rate() differently (3.x applies the zero clamp after the
        # half-spacing rule), which would make the answers differ for reasons of semantics.
        self.minutes = self.hours * 60 + 10
        self.steps = self.minutes * 60 // DATA_INTERVAL_S
        self.samples = self.series * self.steps
        self.end_ms = (int(time.time()) - end_ago_s) * 1000
        self.path = os.path.join(work, f"{name}.om")
        self.blocks = {}  # system -> directory holding that system's tool's blocks
        t0 = time.monotonic()
        subprocess.run([self.tool(), "openmetrics", f"--out={self.path}"] + self.shape_flags(),
                       check=True)
        print(f"{name}: {self.series:,} series x {self.steps} samples = {self.samples:,} "
              f"samples, {os.path.getsize(self.path) / 2**20:.0f} MiB of OpenMetrics "
              f"({time.monotonic() - t0:.1f}s)", flush=True)

    def tool(self):
        return os.path.join(self.args.build_dir, "bin", "kiln_bench_data")

    def shape_flags(self):
        return [f"--instances={self.instances}", f"--minutes={self.minutes}",
                f"--interval-s={DATA_INTERVAL_S}", f"--end-ms={self.end_ms}"]

    def describe(self):
        return (f"{self.series:,} series ({self.instances} instances x 100: request counters, a "
                f"10-bucket histogram, CPU counters, gauges) x {self.hours}h10m at "
                f"{DATA_INTERVAL_S}s (1-4 ms late on one scrape in four) = {self.samples:,} samples")

    def keep_blocks(self, system, out):
        """Takes ownership of `out`, a complete backfill by `system`'s tool."""
        if system in self.blocks:
            shutil.rmtree(out, ignore_errors=True)
        else:
            self.blocks[system] = out

    def copy_blocks(self, system, dest):
        """Fills the (new) directory `dest` with `system`'s tool's blocks of this data set."""
        if system not in self.blocks:
            out = tempfile.mkdtemp(prefix=f"{system}-blocks-", dir=self.work)
            run_measured(backfill_argv(system, self.args, self.path, out),
                         os.path.join(self.work, f"{system}-backfill.log"))
            self.blocks[system] = out
        shutil.copytree(self.blocks[system], dest)


def backfill_argv(system, args, src, out):
    if system == "prometheus":
        return ["/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics", src, out]
    return [os.path.join(args.build_dir, "bin", "kilntool"), "tsdb", "create-blocks-from",
            "openmetrics", src, out]


def block_samples(out):
    """Total NUM SAMPLES over the blocks in `out`, as `promtool tsdb list` reads them."""
    res = subprocess.run(["/usr/bin/promtool", "tsdb", "list", out], capture_output=True,
                         text=True, check=True)
    total = blocks = 0
    for line in res.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8:
            total += int(fields[4])
            blocks += 1
    return total, blocks


def part_bytes(out, name):
    """Bytes of files called `name` (e.g. "index") or under directories called `name`."""
    total = 0
    for r, _, files in os.walk(out):
        for n in files:
            if n == name or os.path.basename(r) == name:
                total += os.path.getsize(os.path.join(r, n))
    return total


# ---------------------------------------------------------------------------------- storage

def storage_once(system, args, work, ds):
    out = tempfile.mkdtemp(prefix=f"{system}-blocks-", dir=work)
    try:
        wall, cpu, rss = run_measured(backfill_argv(system, args, ds.path, out),
                                      os.path.join(work, f"{system}-backfill.log"))
        samples, blocks = block_samples(out)
        if samples != ds.samples:
            raise RuntimeError(f"{system} backfill holds {samples} samples, want {ds.samples}")
        return {
            "bytes_per_sample": dir_bytes(out) / samples,
            "index_bytes_per_sample": part_bytes(out, "index") / samples,
            "chunk_bytes_per_sample": part_bytes(out, "chunks") / samples,
            "blocks": blocks,
            "wall_s": wall,
            "cpu_s": cpu,
            "msamples_per_s": samples / wall / 1e6,
            "peak_rss_mib": rss / 2**20,
        }
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        if os.path.isdir(out):
            ds.keep_blocks(system, out)  # the query and startup workloads reuse one


STORAGE_FIGURES = [
    ("bytes_per_sample", "bytes per sample on disk (all block files)"),
    ("chunk_bytes_per_sample", "… of which chunks/"),
    ("index_bytes_per_sample", "… of which index"),
    ("blocks", "blocks written"),
    ("wall_s", "backfill wall time (s)"),
    ("cpu_s", "backfill CPU time (s, user+sys)"),
    ("msamples_per_s", "backfill speed (M samples/s, higher is better)"),
    ("peak_rss_mib", "backfill peak RSS (MiB)"),
]


def run_storage(args, work, ds):
    runs = {"prometheus": [], "kiln": []}
    for r in range(args.rounds):
        for system in SYSTEMS:
            res = storage_once(system, args, work, ds)
            print(f"storage round {r + 1} {system}: {json.dumps(res)}", flush=True)
            runs[system].append(res)
    title = (f"storage — `promtool tsdb create-blocks-from openmetrics` vs `kilntool tsdb "
             f"create-blocks-from openmetrics` on one OpenMetrics file: {ds.describe()}")
    notes = ["Sample counts of both outputs checked with `promtool tsdb list`."]
    return title, medians(runs, STORAGE_FIGURES), notes


# ------------------------------------------------------------------------------------ query

def dashboard_queries():
    """(name, PromQL) — the panels of a service dashboard and a node dashboard."""
    return [
        ("rate, one target", 'rate(http_requests_total{instance="host-1:9100"}[5m])'),
        ("sum by status of rate", "sum by (status) (rate(http_requests_total[5m]))"),
        ("histogram_quantile p99",
         "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
        ("histogram_quantile p90 per instance",
         "histogram_quantile(0.9, sum by (instance, le) "
         "(rate(http_request_duration_seconds_bucket[5m])))"),
        ("mean latency (ratio of rates)",
         "sum(rate(http_request_duration_seconds_sum[5m])) / "
         "sum(rate(http_request_duration_seconds_count[5m]))"),
        ("topk of CPU", 'topk(5, sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])))'),
        ("avg by instance of gauges", "avg by (instance) (node_gauge)"),
    ]


def same_result(a, b):
    """Same series (by labels) with the same timestamps and values to 1e-9 relative."""
    def norm(res):
        return sorted(((json.dumps(s["metric"], sort_keys=True), s.get("values") or [s["value"]])
                       for s in res), key=lambda x: x[0])

    na, nb = norm(a), norm(b)
    if len(na) != len(nb):
        return False
    for (la, va), (lb, vb) in zip(na, nb):
        if la != lb or len(va) != len(vb):
            return False
        for (ta, xa), (tb, xb) in zip(va, vb):
            fa, fb = float(xa), float(xb)
            if abs(float(ta) - float(tb)) > 1e-6:
                return False
            if math.isnan(fa) and math.isnan(fb):
                continue
            if fa != fb and abs(fa - fb) > 1e-9 * max(abs(fa), abs(fb)):
                return False
    return True


def load_query_server(system, args, work, ds, end_s):
    """A server holding the data set; returns (server, how it was loaded)."""
    data = os.path.join(tempfile.mkdtemp(prefix=f"{system}-query-", dir=work), "data")
    ds.copy_blocks(system, data)
    config = os.path.join(work, "empty.yml")
    want = ds.instances * 60  # node_gauge series
    s = Server(system, args, work, data, config, "query")
    s.wait_ready()
    if s.scalar("count(node_gauge)", end_s) == want:
        return s, "blocks"
    if system == "prometheus":
        raise RuntimeError(f"prometheus does not see the backfilled blocks in {data}")
    # The kiln server does not open blocks yet: send it the identical samples instead.
    s.stop()
    shutil.rmtree(os.path.dirname(data), ignore_errors=True)
    data = tempfile.mkdtemp(prefix=f"{system}-query-rw-", dir=work)
    s = Server(system, args, work, data, config, "query")
    s.wait_ready()
    out = subprocess.run([ds.tool(), "remote-write", f"--port={s.port}"] + ds.shape_flags(),
                         capture_output=True, text=True)
    if out.returncode != 0:
        s.stop()
        raise RuntimeError(f"remote_write into {system} failed: {out.stdout}{out.stderr}")
    got = s.scalar("count(node_gauge)", end_s)
    if got != want:
        s.stop()
        raise RuntimeError(f"{system} holds {got} node_gauge series after remote_write, want {want}")
    return s, "remote_write (the kiln server does not open blocks yet)"


def run_query(args, work, ds):
    end_s = ds.end_ms / 1000
    servers, loaded = {}, {}
    try:
        for system in SYSTEMS:
            servers[system], loaded[system] = load_query_server(system, args, work, ds, end_s)
            print(f"query: {system} loaded by {loaded[system]}", flush=True)
        rss0 = {k: s.proc.peak_rss_bytes() for k, s in servers.items()}
        cpu0 = {k: s.proc.cpu_seconds() for k, s in servers.items()}
        rows, mismatches = [], []
        for window_h in args.query_windows:
            window = window_h * 3600
            step = max(DATA_INTERVAL_S, window // 720)  # ~Grafana's step for a wide panel
            for name, expr in dashboard_queries():
                params = {"query": expr, "start": f"{end_s - window:.3f}", "end": f"{end_s:.3f}",
                          "step": str(step)}
                warm = {k: s.get("/api/v1/query_range", params)[1]["data"]["result"]
                        for k, s in servers.items()}
                equal = same_result(warm["prometheus"], warm["kiln"])
                if not equal:
                    mismatches.append(f"{name} over {window_h}h")
                times = {"prometheus": [], "kiln": []}
                for rep in range(args.query_reps):
                    order = SYSTEMS if rep % 2 == 0 else tuple(reversed(SYSTEMS))
                    for system in order:
                        times[system].append(servers[system].get("/api/v1/query_range", params)[0])
                label = (f"{name} over {window_h}h, step {step}s: `{expr}` — median ms"
                         f" ({len(warm['prometheus'])} series{'' if equal else ', RESULTS DIFFER'})")
                row = (label, statistics.median(times["prometheus"]) * 1000,
                       statistics.median(times["kiln"]) * 1000)
                print(f"query {row}", flush=True)
                rows.append(row)
        # HTTP/1.1 keep-alive (what Grafana does) against a new connection per request: a
        # server that leaves Nagle's algorithm on stalls small keep-alive responses on the
        # client's delayed ACK (~40 ms), which only this pair of rows makes visible.
        name, expr = dashboard_queries()[0]
        window = args.query_windows[0] * 3600
        params = {"query": expr, "start": f"{end_s - window:.3f}", "end": f"{end_s:.3f}",
                  "step": str(max(DATA_INTERVAL_S, window // 720))}
        fresh = {"prometheus": [], "kiln": []}
        for rep in range(args.query_reps):
            for system in SYSTEMS:
                s = servers[system]
                s.conn.close()
                s.conn = None
                fresh[system].append(s.get("/api/v1/query_range", params)[0])
        rows.append((f"{name} over {args.query_windows[0]}h with a new connection per request "
                     f"(diagnostic; all rows above reuse one keep-alive connection) — median ms",
                     statistics.median(fresh["prometheus"]) * 1000,
                     statistics.median(fresh["kiln"]) * 1000))
        rows.append(("server CPU s over all query runs",
                     servers["prometheus"].proc.cpu_seconds() - cpu0["prometheus"],
                     servers["kiln"].proc.cpu_seconds() - cpu0["kiln"]))
        rows.append(("peak RSS after loading (MiB)", rss0["prometheus"] / 2**20, rss0["kiln"] / 2**20))
        rows.append(("peak RSS after all queries (MiB)",
                     servers["prometheus"].proc.peak_rss_bytes() / 2**20,
                     servers["kiln"].proc.peak_rss_bytes() / 2**20))
    finally:
        for s in servers.values():
            s.stop()
            shutil.rmtree(s.data_dir, ignore_errors=True)
    title = (f"query — {ds.describe()}; range queries ending at the last sample through "
             f"/api/v1/query_range, {args.query_reps} timed runs each after one warm-up, "
             f"alternating which server goes first")
    notes = [f"Prometheus loaded from {loaded['prometheus']} (promtool backfill); Kiln from "
             f"{loaded['kiln']}.",
             "Every query's answer compared between the servers (same series, timestamps and "
             "values to 1e-9): " + ("all equal." if not mismatches else
                                    "DIFFERENT for " + ", ".join(mismatches) + ".")]
    return title, rows, notes


# ----------------------------------------------------------------------------------- scrape

def scrape_config(work, ports, interval):
    path = os.path.join(work, "scrape.yml")
    with open(path, "w") as f:
        f.write(f"global:\n  scrape_interval: {interval}s\n  scrape_timeout: {interval}s\n"
                "scrape_configs:\n  - job_name: fixture\n    static_configs:\n      - targets:\n")
        for p in ports:
            f.write(f"          - 127.0.0.1:{p}\n")
    return path


def scrape_once(system, args, work, config):
    data = tempfile.mkdtemp(prefix=f"{system}-scrape-", dir=work)
    s = Server(system, args, work, data, config, "scrape")
    try:
        s.wait_ready()
        time.sleep(args.scrape_warmup)  # every target discovered and scraped a few times
        cpu0, t0 = s.proc.cpu_seconds(), time.monotonic()
        time.sleep(args.scrape_seconds)
        cpu, secs = s.proc.cpu_seconds() - cpu0, time.monotonic() - t0
        w = f"{int(args.scrape_seconds)}s"
        up = s.scalar("count(up == 1)") or 0
        scraped = s.scalar(f"sum(sum_over_time(scrape_samples_scraped[{w}]))") or 0
        p99 = s.scalar(f"max(quantile_over_time(0.99, scrape_duration_seconds[{w}]))") or 0
        if up != args.scrape_targets:
            raise RuntimeError(f"{system}: {up} of {args.scrape_targets} targets up; see {s.proc.log.name}")
        return {
            "cpu_s": cpu,
            "cpu_share": cpu / secs,
            "cpu_s_per_million": cpu / (scraped / 1e6),
            "scraped_msamples": scraped / 1e6,
            "p99_ms": p99 * 1000,
            "peak_rss_mib": s.proc.peak_rss_bytes() / 2**20,
        }
    finally:
        s.stop()
        shutil.rmtree(data, ignore_errors=True)


SCRAPE_FIGURES = [
    ("cpu_s", "server CPU seconds in the window"),
    ("cpu_share", "cores busy (CPU s / wall s)"),
    ("cpu_s_per_million", "CPU s per million scraped samples"),
    ("scraped_msamples", "samples scraped in the window (M, per `scrape_samples_scraped`)"),
    ("p99_ms", "scrape duration p99, worst target (ms)"),
    ("peak_rss_mib", "peak RSS (MiB)"),
]


def run_scrape(args, work):
    fixture = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "scrape_fixture.py"),
         f"--targets={args.scrape_targets}", f"--series={args.scrape_series}"],
        stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(fixture.stdout.readline())
        config = scrape_config(work, info["ports"], args.scrape_interval)
        runs = {"prometheus": [], "kiln": []}
        for r in range(args.rounds):
            for system in SYSTEMS:
                res = scrape_once(system, args, work, config)
                print(f"scrape round {r + 1} {system}: {json.dumps(res)}", flush=True)
                runs[system].append(res)
    finally:
        fixture.send_signal(signal.SIGTERM)
        fixture.wait()
    title = (f"scrape — {args.scrape_targets} targets x {args.scrape_series:,} series (text "
             f"format, {info['body_bytes'] / 1024:.0f} KiB per scrape, values change every "
             f"second) at {args.scrape_interval}s, measured for {args.scrape_seconds}s after "
             f"{args.scrape_warmup}s of warm-up; one Python asyncio fixture process serves all "
             f"targets")
    return title, medians(runs, SCRAPE_FIGURES), []


# ---------------------------------------------------------------------------------- startup

def kiln_opens_blocks(args, work):
    """Whether the kiln server queries blocks found in its data directory at start."""
    probe = DataSet(args, work, name="probe", instances=1, hours=1)
    data = os.path.join(tempfile.mkdtemp(prefix="kiln-probe-", dir=work), "data")
    probe.copy_blocks("kiln", data)
    s = Server("kiln", args, work, data, os.path.join(work, "empty.yml"), "probe")
    try:
        s.wait_ready()
        return s.scalar("count(node_gauge)", probe.end_ms / 1000) == 60
    finally:
        s.stop()
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)
        shutil.rmtree(probe.blocks["kiln"], ignore_errors=True)
        os.remove(probe.path)


def make_wal_dir(system, args, work, blocks):
    """A data directory whose head holds args.startup_series series, written by `system`,
    next to `system`'s tool's blocks of the DataSet `blocks` (unless None)."""
    data = os.path.join(tempfile.mkdtemp(prefix=f"{system}-startup-src-", dir=work), "data")
    if blocks:
        blocks.copy_blocks(system, data)
    else:
        os.mkdir(data)
    s = Server(system, args, work, data, os.path.join(work, "empty.yml"), "startup-load")
    try:
        s.wait_ready()
        out = subprocess.run(
            [os.path.join(args.build_dir, "bin", "kiln_ingest_load"), f"--port={s.port}",
             f"--series={args.startup_series}", f"--rounds={args.startup_ingest_rounds}",
             "--senders=4"], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{system} startup load failed: {out.stdout}{out.stderr}")
        samples = json.loads(out.stdout)["samples"]
    finally:
        s.stop()
    return data, samples


def startup_once(system, args, work, src, blocks):
    data = os.path.join(tempfile.mkdtemp(prefix=f"{system}-startup-", dir=work), "data")
    shutil.copytree(src, data)
    subprocess.run(["sync"], check=False)
    s = Server(system, args, work, data, os.path.join(work, "empty.yml"), "startup")
    try:
        ready = s.wait_ready()
        cpu, rss = s.proc.cpu_seconds(), s.proc.peak_rss_bytes()
        # The load's samples may be older than the lookback by now: count over a range.
        n = s.scalar('count(last_over_time({job="ingest"}[1d]))')
        if n != args.startup_series:
            raise RuntimeError(f"{system} holds {n} series after restart, want {args.startup_series}")
        if blocks:
            n = s.scalar("count(node_gauge)", blocks.end_ms / 1000)
            if n != blocks.instances * 60:
                raise RuntimeError(f"{system} sees {n} node_gauge series in its blocks after restart")
        return {"ready_s": ready, "cpu_s": cpu, "peak_rss_mib": rss / 2**20}
    finally:
        s.stop()
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)


def run_startup(args, work):
    srcs, wal, blocks = {}, {}, None
    try:
        if kiln_opens_blocks(args, work):
            # Older than anything the WAL will hold: a head refuses samples below its blocks.
            blocks = DataSet(args, work, name="startup-blocks", end_ago_s=3 * 3600)
        for system in SYSTEMS:
            srcs[system], samples = make_wal_dir(system, args, work, blocks)
            wal[system] = (dir_bytes(os.path.join(srcs[system], "wal")),
                           dir_bytes(srcs[system]), samples)
            print(f"startup: {system} wrote {wal[system][1] / 2**20:.0f} MiB", flush=True)
        runs = {"prometheus": [], "kiln": []}
        for r in range(args.rounds):
            for system in SYSTEMS:
                res = startup_once(system, args, work, srcs[system], blocks)
                print(f"startup round {r + 1} {system}: {json.dumps(res)}", flush=True)
                runs[system].append(res)
    finally:
        for d in srcs.values():
            shutil.rmtree(os.path.dirname(d), ignore_errors=True)
        if blocks:
            for d in blocks.blocks.values():
                shutil.rmtree(d, ignore_errors=True)
    rows = medians(runs, [("ready_s", "seconds from exec to /-/ready"),
                          ("cpu_s", "CPU seconds until ready"),
                          ("peak_rss_mib", "peak RSS at ready (MiB)")])
    rows += [("WAL bytes per sample written", wal["prometheus"][0] / wal["prometheus"][2],
              wal["kiln"][0] / wal["kiln"][2]),
             ("data directory size (MiB)", wal["prometheus"][1] / 2**20, wal["kiln"][1] / 2**20)]
    what = (f"blocks of {blocks.describe()}, each from its own tool" if blocks else
            "no blocks: the kiln server does not open blocks yet, so neither side gets any")
    title = (f"startup — restart on a data directory each server wrote itself from the same "
             f"remote_write load ({args.startup_series:,} series x {5 * args.startup_ingest_rounds}"
             f" samples, clean shutdown: WAL + chunks_head) plus {what}")
    notes = ["Series counts after restart checked (`count(last_over_time({job=\"ingest\"}[1d]))`" +
             (", `count(node_gauge)` in the blocks)." if blocks else ").")]
    return title, rows, notes


# -------------------------------------------------------------------------------- reporting

def machine_line():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def fmt(v):
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def ratio(prom, kiln):
    return f"{kiln / prom:.2f}x" if prom else "n/a"


def render(args, command, sections):
    lines = ["# Benchmark results", "",
             f"Machine: {machine_line()}; shared with other work, so read the ratios, not the "
             f"absolute numbers. Command: `{command}`. Medians of {args.rounds} alternating "
             f"rounds (Prometheus, Kiln, …), each on a fresh data directory, unless a section "
             f"says otherwise. Reference: Prometheus 2.42 and promtool from Debian. Lower is "
             f"better unless a figure says otherwise.", ""]
    for title, rows, notes in sections:
        lines += [f"### {title}", ""]
        if rows:
            lines += ["| figure | Prometheus 2.42 | Kiln | Kiln / Prometheus |", "|---|---|---|---|"]
            for label, prom, kiln in rows:
                lines.append(f"| {label} | {fmt(prom)} | {fmt(kiln)} | {ratio(prom, kiln)} |")
            lines.append("")
        for n in notes:
            lines += [n, ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS))
    ap.add_argument("--quick", action="store_true", help="small sizes, one round (a smoke run)")
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    g = ap.add_argument_group("ingest")
    g.add_argument("--series", type=int, default=100000)
    g.add_argument("--ingest-rounds", type=int, default=12, help="samples per series sent = 5 x this")
    g = ap.add_argument_group("storage and query (one data set)")
    g.add_argument("--data-instances", type=int, default=100, help="100 series each")
    g.add_argument("--data-hours", type=int, default=6)
    g.add_argument("--query-windows", default="1,6", help="range-query windows in hours")
    g.add_argument("--query-reps", type=int, default=7)
    g = ap.add_argument_group("scrape")
    g.add_argument("--scrape-targets", type=int, default=200)
    g.add_argument("--scrape-series", type=int, default=1000)
    g.add_argument("--scrape-interval", type=int, default=1, help="seconds")
    g.add_argument("--scrape-seconds", type=int, default=120)
    g.add_argument("--scrape-warmup", type=int, default=15)
    g = ap.add_argument_group("startup")
    g.add_argument("--startup-series", type=int, default=1000000)
    g.add_argument("--startup-ingest-rounds", type=int, default=12,
                   help="samples per series in the WAL = 5 x this")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.series, args.ingest_rounds = 1, 10000, 4
        args.data_instances, args.data_hours, args.query_reps = 10, 6, 3
        args.scrape_targets, args.scrape_series, args.scrape_seconds = 20, 200, 20
        args.scrape_warmup = 5
        args.startup_series, args.startup_ingest_rounds = 20000, 4
    args.build_dir = os.path.abspath(args.build_dir)
    args.incidents = []  # abnormal server exits, reported under the tables
    args.query_windows = [int(w) for w in args.query_windows.split(",")]
    workloads = args.workloads.split(",")
    for w in workloads:
        if w not in ALL_WORKLOADS:
            print(f"unknown workload {w}; known: {','.join(ALL_WORKLOADS)}", file=sys.stderr)
            return 2
    if max(args.query_windows) > args.data_hours:
        print("--query-windows must fit in --data-hours", file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="kiln-bench-")
    with open(os.path.join(work, "empty.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 15s\n")
    command = "/usr/bin/python3 bench/run.py " + " ".join(sys.argv[1:])
    sections, failed, ds = [], [], None
    try:
        for w in workloads:
            t0 = time.monotonic()
            try:
                if w in ("storage", "query") and ds is None:
                    ds = DataSet(args, work)
                if w == "ingest":
                    sections.append(run_ingest(args, work))
                elif w == "storage":
                    sections.append(run_storage(args, work, ds))
                elif w == "query":
                    sections.append(run_query(args, work, ds))
                elif w == "scrape":
                    sections.append(run_scrape(args, work))
                elif w == "startup":
                    sections.append(run_startup(args, work))
            except Exception as e:  # one broken workload must not hide the others' results
                traceback.print_exc()
                failed.append(w)
                sections.append((f"{w} — FAILED", [], [f"`{e}`"]))
            print(f"== {w} took {time.monotonic() - t0:.0f}s", flush=True)
    finally:
        if failed:
            print(f"logs of the failed run kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    if args.incidents:
        sections.append(("incidents", [], args.incidents))
    text = render(args, command, sections)
    print(text)
    with open(args.output, "w") as f:
        f.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
