"""/api/v1/status/flags, runtimeinfo's storageRetention, CORS headers and OPTIONS on /api/v1,
--web.read-timeout on a stalled request, and startup rejections of bad flag values, next to
Debian's Prometheus 2.42 started with the same command line: the whole flags object must
agree except for the documented differences below.

Usage: web_flags_test.py --build-dir BUILD"""

import json
import os
import socket
import subprocess
import sys
import time

import e2e_lib as e2e
from e2e_lib import PROMETHEUS

# Flags Kiln accepts and lists that 2.42 lacks: Prometheus 3.x's additions, and upstream's
# --storage.*.no-lockfile that Debian's 2.42 renamed to --storage.*.use-lockfile (Kiln has
# both names for one setting).
KILN_ONLY = {
    "alertmanager.drain-notification-queue-on-shutdown", "auto-gomaxprocs", "auto-gomemlimit",
    "auto-gomemlimit.ratio", "config.auto-reload-interval", "rules.max-concurrent-evals",
    "scrape.name-escaping-scheme", "storage.agent.no-lockfile", "storage.tsdb.no-lockfile",
    "web.enable-otlp-receiver", "web.max-notifications-subscribers",
    "web.remote-write-receiver.accepted-protobuf-messages",
}
# Values that differ on purpose when not given: Debian patches the agent path to
# /var/lib/prometheus/data-agent/ (agent flags can't be given in server mode to align it);
# Kiln keeps upstream's lockfile default (locked), Debian defaults to no lockfile.
DEFAULT_DIFFS = {"storage.agent.path", "storage.tsdb.use-lockfile"}
# Each server gets its own directory and port; each must list its own.
PER_SERVER = {"storage.tsdb.path", "web.listen-address"}

# Debian's patched defaults, given explicitly so both servers run the same setting.
COMMON = ["--web.console.templates=/etc/prometheus/consoles",
          "--web.console.libraries=/etc/prometheus/console_libraries", "--log.level=warn"]

SCENARIOS = {
    "defaults": [],
    "many": ["--storage.tsdb.retention.size=1536KB", "--query.timeout=90s",
             "--storage.tsdb.retention.time=400d", "--web.external-url=http://h:1/a/b/",
             "--storage.remote.read-sample-limit=1e3", "--storage.tsdb.wal-segment-size=20MB",
             "--enable-feature=exemplar-storage,promql-at-modifier",
             "--enable-feature=promql-negative-offset", "--no-storage.tsdb.use-lockfile",
             "--web.route-prefix=x/", "--query.lookback-delta=0", "--query.max-concurrency=7.9",
             "--storage.tsdb.max-block-chunk-segment-size=3MB", "--web.read-timeout=1y1d",
             "--web.cors.origin=https?://(a|b)\\.example", "--web.page-title=Kiln test",
             "--web.max-connections=64", "--rules.alert.for-grace-period=3m",
             "--scrape.timestamp-tolerance=5ms", "--no-scrape.adjust-timestamps",
             "--storage.remote.flush-deadline=2m30s", "--alertmanager.timeout=10s"],
    "deprecated_retention": ["--storage.tsdb.retention=20d", "--web.external-url=http://h:1"],
    "size_only": ["--storage.tsdb.retention.size=1.5GB", "--web.route-prefix=/"],
    "both_retentions": ["--storage.tsdb.retention=20d", "--storage.tsdb.retention.time=1000d",
                        "--storage.tsdb.max-block-duration=5h", "--storage.tsdb.retention.size=2GB"],
}


def get(url, method="GET", headers=None):
    # Header names as the server wrote them (dict(), not the case-insensitive message).
    r = e2e.request(url, method, headers=headers)
    return r.status, dict(r.headers), r.body


def prefix_of(args):
    for a in args:
        if a.startswith("--web.route-prefix="):
            p = "/" + a.split("=", 1)[1].strip("/")
            return "" if p == "/" else p
    return "/a/b" if "--web.external-url=http://h:1/a/b/" in args else ""


def start_pair(build_dir, tmp, name, args):
    """Kiln and Prometheus on the same command line, ready; each server's `api` is its URL
    with the route prefix, under which /-/ready and the API live."""
    config = e2e.minimal_config(os.path.join(tmp, name))
    prefix = prefix_of(args)
    servers = {}
    for who, binary in (("kiln", os.path.join(build_dir, "bin", "kiln")),
                        ("prometheus", PROMETHEUS)):
        data = os.path.join(tmp, name, who + "-data")
        servers[who] = e2e.Server(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
             "--web.listen-address=127.0.0.1:{port}", *COMMON, *args],
            os.path.join(tmp, name, who + ".log"), name=f"{name}/{who}", route_prefix=prefix)
        servers[who].data_dir = data
    for s in servers.values():
        s.wait_ready()
        s.api = s.url + prefix
    return servers


def compare_flags(name, servers, failures):
    got = {who: json.loads(get(s.api + "/api/v1/status/flags")[2])["data"]
           for who, s in servers.items()}
    k, p = got["kiln"], got["prometheus"]
    missing = sorted(set(p) - set(k))
    extra = sorted(set(k) - set(p) - KILN_ONLY)
    if missing:
        failures.append(f"{name}: Kiln lacks {missing}")
    if extra:
        failures.append(f"{name}: Kiln has undocumented {extra}")
    given = " ".join(SCENARIOS[name])
    allowed = {"storage.agent.path"} if "lockfile" in given else DEFAULT_DIFFS
    for who, s in servers.items():
        want = {"storage.tsdb.path": s.data_dir, "web.listen-address": f"127.0.0.1:{s.port}"}
        for key, value in want.items():
            if got[who][key] != value:
                failures.append(f"{name}: {who} lists {key}={got[who][key]!r}, given {value!r}")
    for key in sorted(set(k) & set(p) - PER_SERVER):
        if k[key] != p[key] and key not in allowed:
            failures.append(f"{name}: {key}: kiln {k[key]!r} prometheus {p[key]!r}")
    compared = len(set(k) & set(p))
    print(f"{name}: {compared} flags compared, {len(set(k) - set(p))} Kiln-only")
    rt = {who: json.loads(get(s.api + "/api/v1/status/runtimeinfo")[2])["data"]["storageRetention"]
          for who, s in servers.items()}
    if rt["kiln"] != rt["prometheus"]:
        failures.append(f"{name}: storageRetention kiln {rt['kiln']!r} prometheus "
                        f"{rt['prometheus']!r}")


CORS_KEYS = ("Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
             "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary")


def compare_cors(name, servers, failures):
    requests = [("OPTIONS", "/api/v1/query", {}), ("OPTIONS", "/api/v1/query", {"Origin": "http://x"}),
                ("OPTIONS", "/api/v1/no/such/endpoint", {"Origin": "https://a.example"}),
                ("GET", "/api/v1/query?query=1", {"Origin": "https://a.example"}),
                ("GET", "/api/v1/query?query=1", {"Origin": "https://c.example"}),
                ("GET", "/api/v1/labels", {}), ("POST", "/api/v1/query", {"Origin": "http://y"})]
    for method, path, headers in requests:
        answers = {}
        for who, s in servers.items():
            status, h, _ = get(s.api + path, method, headers)
            answers[who] = (status, {key: h.get(key) for key in CORS_KEYS})
        if answers["kiln"] != answers["prometheus"]:
            failures.append(f"{name}: {method} {path} {headers}: kiln {answers['kiln']} "
                            f"prometheus {answers['prometheus']}")


def seconds_until_ended(url, limit):
    """Opens a connection, sends a request line without its headers and returns how long
    the server waits before ending the request (closing, or answering: see KNOWN below),
    None if nothing happened within `limit` seconds."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.create_connection((host, int(port)), timeout=limit) as sock:
        sock.sendall(b"GET /api/v1/query HTTP/1.1\r\n")
        start = time.monotonic()
        try:
            sock.recv(4096)
        except socket.timeout:
            return None
        return time.monotonic() - start


# KNOWN: when the timeout expires, Go closes the connection; Kiln's HTTP library answers
# "400 Bad Request" and keeps the connection for its 5 s keep-alive (pkg/web/server.cc).


def compare_read_timeout(build_dir, tmp, failures):
    """--web.read-timeout closes a connection whose request stalls, in both servers; with
    the default 5m it stays open. The bounds tell 2 s from 5 m, not a fast machine from a
    busy one: ending before 1.5 s or staying open 3 s fails, ending within 30 s passes."""
    for args, lo, hi in ((["--web.read-timeout=2s"], 1.5, 30), ([], None, None)):
        servers = start_pair(build_dir, tmp, "read-timeout" + str(len(args)), args)
        try:
            for who, s in servers.items():
                took = seconds_until_ended(s.url, hi if lo else 3)
                if lo is None and took is not None:
                    failures.append(f"{who}: default read timeout ended the request after {took:.1f}s")
                if lo is not None and (took is None or not lo <= took <= hi):
                    failures.append(f"{who}: --web.read-timeout=2s ended the request after {took}")
                print(f"read timeout {args}: {who} ended the request after {took}")
        finally:
            for s in servers.values():
                s.stop()


def compare_rejections(build_dir, tmp, failures):
    """Flags both refuse at startup; Kiln must exit non-zero with Prometheus's message."""
    cases = [["--storage.tsdb.wal-segment-size=1MB"],
             ["--storage.tsdb.max-block-chunk-segment-size=512KB"],
             ["--storage.agent.retention.min-time=1h"],
             ["--web.cors.origin=("], ["--no-such-flag"]]
    for args in cases:
        config = e2e.minimal_config(os.path.join(tmp, "reject"))
        out = {}
        for who, binary in (("kiln", os.path.join(build_dir, "bin", "kiln")),
                            ("prometheus", PROMETHEUS)):
            r = subprocess.run([binary, f"--config.file={config}",
                                f"--storage.tsdb.path={tmp}/reject/{who}",
                                "--web.listen-address=127.0.0.1:0", *args],
                               capture_output=True, text=True, timeout=30)
            out[who] = r
        if out["kiln"].returncode == 0 or out["prometheus"].returncode == 0:
            failures.append(f"{args}: exit codes kiln {out['kiln'].returncode} prometheus "
                            f"{out['prometheus'].returncode}")
            continue
        # Prometheus's message (minus kingpin/regexp detail) must appear in Kiln's.
        p = out["prometheus"].stdout + out["prometheus"].stderr
        k = out["kiln"].stdout + out["kiln"].stderr
        for needle in ("must be set between 10MB and 256MB", "must be set over 1MB",
                       "can only be used in agent mode: [\"--storage.agent.retention.min-time\"]",
                       "unknown long flag '--no-such-flag'"):
            if needle in p and needle not in k:
                failures.append(f"{args}: Kiln's error lacks {needle!r}: {k.strip()[:200]}")


def compare_all(opts, tmp):
    failures = []
    for name, args in SCENARIOS.items():
        servers = start_pair(opts.build_dir, tmp, name, args)
        try:
            compare_flags(name, servers, failures)
            if name in ("defaults", "many"):
                compare_cors(name, servers, failures)
        finally:
            for s in servers.values():
                s.stop()
    compare_read_timeout(opts.build_dir, tmp, failures)
    compare_rejections(opts.build_dir, tmp, failures)
    for f in failures:
        print("FAIL", f)
    print("OK" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(e2e.main(compare_all, "kiln-web-flags-", needs=(PROMETHEUS,)))
