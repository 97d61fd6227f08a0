"""Shared helpers for Kiln's end-to-end tests: start real servers on free loopback ports,
send remote_write, read promtool-format dumps. Every test gets its own temp directory."""

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "compliance"))
import promwrite  # noqa: E402,F401

SKIP = 77  # CTest SKIP_RETURN_CODE


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, argv, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "a")
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"not ready after {timeout}s:\n{self.read_log()}")

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


def minimal_config(directory):
    """Writes a prometheus.yml with no scrape jobs into `directory` and returns its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "prometheus.yml")
    with open(path, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    return path


def kiln(build_dir, data_dir, log_path, extra=()):
    config = minimal_config(os.path.dirname(os.path.abspath(log_path)))
    return Server([os.path.join(build_dir, "bin", "kiln"), f"--config.file={config}",
                   f"--storage.tsdb.path={data_dir}",
                   "--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
                   *extra], log_path)


def prometheus(data_dir, config, log_path):
    return Server(["/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
                   "--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
                   "--log.level=warn"], log_path)


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
    r = subprocess.run([tool, "tsdb", "dump", data_dir], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"{tool} tsdb dump failed ({r.returncode}): {r.stderr[-2000:]}")
    return parse_dump(r.stdout)


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
