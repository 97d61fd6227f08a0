#!/usr/bin/python3
"""Kiln vs Prometheus 2.42, side by side, as ../shared/docs/BENCHMARKS.md prescribes.

Each workload starts each system fresh (new data directory, same flags but the port), feeds
both the identical pre-built load one after the other (A B A B …, --rounds rounds), and
reports medians and the Kiln/Prometheus ratio. Results go to bench/RESULTS.md.

Usage: bench/run.py [--build-dir build] [--rounds 3] [--workloads ingest,...] [--quick]
"""

import argparse
import json
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
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A server under measurement: CPU seconds from /proc/<pid>/stat, peak RSS from VmHWM."""

    def __init__(self, argv, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def peak_rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def wait_ready(self, url, timeout=120):
        start = time.time()
        while time.time() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return time.time() - start
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"not ready after {timeout}s; see {self.log.name}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def server_argv(system, build_dir, data_dir, port, config):
    common = [f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
              f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
              "--log.level=warn"]
    if system == "prometheus":
        return ["/usr/bin/prometheus"] + common
    return [os.path.join(build_dir, "bin", "kiln")] + common


def ingest_once(system, args, work):
    data = tempfile.mkdtemp(prefix=f"{system}-", dir=work)
    config = os.path.join(work, "empty.yml")
    port = free_port()
    p = Process(server_argv(system, args.build_dir, data, port, config),
                os.path.join(work, f"{system}-ingest.log"))
    try:
        p.wait_ready(f"http://127.0.0.1:{port}")
        cpu0 = p.cpu_seconds()
        out = subprocess.run(
            [os.path.join(args.build_dir, "bin", "kiln_ingest_load"), f"--port={port}",
             f"--series={args.series}", f"--rounds={args.ingest_rounds}", "--senders=4"],
            capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{system} ingest failed: {out.stdout}{out.stderr}")
        res = json.loads(out.stdout)
        cpu = p.cpu_seconds() - cpu0
        return {
            "samples_per_second": res["samples_per_second"],
            "cpu_s_per_million": cpu / (res["samples"] / 1e6),
            "peak_rss_mib": p.peak_rss_bytes() / 2**20,
            "rss_per_series_kib": p.peak_rss_bytes() / 1024 / args.series,
        }
    finally:
        p.stop()
        shutil.rmtree(data, ignore_errors=True)


INGEST_FIGURES = [  # (key, label, higher is better)
    ("samples_per_second", "samples/s accepted", True),
    ("cpu_s_per_million", "CPU s per million samples", False),
    ("peak_rss_mib", "peak RSS (MiB)", False),
    ("rss_per_series_kib", "peak RSS per series (KiB)", False),
]


def run_ingest(args, work):
    runs = {"prometheus": [], "kiln": []}
    for r in range(args.rounds):
        for system in ("prometheus", "kiln"):
            res = ingest_once(system, args, work)
            print(f"ingest round {r + 1} {system}: {json.dumps(res)}", flush=True)
            runs[system].append(res)
    rows = []
    for key, label, higher in INGEST_FIGURES:
        prom = statistics.median(x[key] for x in runs["prometheus"])
        kiln = statistics.median(x[key] for x in runs["kiln"])
        rows.append((label, prom, kiln, kiln / prom if prom else float("nan"), higher))
    return rows


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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workloads", default="ingest")
    ap.add_argument("--series", type=int, default=100000)
    ap.add_argument("--ingest-rounds", type=int, default=12,
                    help="samples per series sent = 5 x this")
    ap.add_argument("--quick", action="store_true", help="small sizes, one round (a smoke run)")
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.series, args.ingest_rounds = 1, 10000, 4
    args.build_dir = os.path.abspath(args.build_dir)

    work = tempfile.mkdtemp(prefix="kiln-bench-")
    with open(os.path.join(work, "empty.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 15s\n")
    command = "/usr/bin/python3 bench/run.py " + " ".join(sys.argv[1:])
    sections = []
    try:
        for w in args.workloads.split(","):
            if w == "ingest":
                rows = run_ingest(args, work)
                title = (f"### ingest — remote_write 1.0, {args.series:,} series, 1000 series x 5 samples "
                         f"per request, 4 concurrent senders (one load-generator process)")
                sections.append((title, rows))
            else:
                print(f"unknown workload {w}", file=sys.stderr)
                return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = ["# Benchmark results", "",
             f"Machine: {machine_line()}. Command: `{command}`. "
             f"Medians of {args.rounds} alternating rounds (Prometheus, Kiln, …), each on a fresh "
             f"data directory. Reference: Prometheus 2.42 from Debian.", ""]
    for title, rows in sections:
        lines += [title, "", "| figure | Prometheus 2.42 | Kiln | Kiln / Prometheus |", "|---|---|---|---|"]
        for label, prom, kiln, ratio, _ in rows:
            lines.append(f"| {label} | {fmt(prom)} | {fmt(kiln)} | {ratio:.2f}x |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(args.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
