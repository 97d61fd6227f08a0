#!/usr/bin/env python3
"""Backfill benchmark: `kilntool tsdb create-blocks-from openmetrics` against promtool's.

Generates an OpenMetrics file (gauges with random walks, counters, constant series), backfills
it with both tools, and prints wall time, samples per second and on-disk bytes per sample of
the blocks each wrote. Usage: bench/tsdb_backfill.py [--build-dir build] [--series N]
[--hours H] [--interval-s S]
"""
import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time


def generate(path, series, hours, interval_s):
    rnd = random.Random(42)
    start = 1700000000
    steps = hours * 3600 // interval_s
    samples = 0
    with open(path, "w") as f:
        for kind in ("gauge", "counter", "const"):
            name = {"gauge": "bench_gauge", "counter": "bench_requests_total",
                    "const": "bench_info"}[kind]
            f.write(f"# TYPE {name.removesuffix('_total')} {'gauge' if kind != 'counter' else 'counter'}\n")
            for i in range(series // 3):
                v = rnd.random() * 100
                for k in range(steps):
                    if kind == "gauge":
                        v += rnd.gauss(0, 1)
                    elif kind == "counter":
                        v += rnd.randint(0, 10)
                    f.write(f'{name}{{instance="host-{i}",job="bench"}} {round(v, 3)} '
                            f"{start + k * interval_s}\n")
                    samples += 1
        f.write("# EOF\n")
    return samples


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(r, n)) for r, _, files in os.walk(d) for n in files)


def run(cmd, out_dir):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0, dir_bytes(out_dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--series", type=int, default=300)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--interval-s", type=int, default=30)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kiln_backfill_bench_")
    try:
        src = os.path.join(tmp, "in.om")
        n = generate(src, a.series, a.hours, a.interval_s)
        print(f"{n} samples, {a.series} series, {a.hours}h at {a.interval_s}s")
        tools = {"kilntool": os.path.join(a.build_dir, "bin", "kilntool")}
        if shutil.which("promtool"):
            tools["promtool"] = "promtool"
        for name, exe in tools.items():
            out = os.path.join(tmp, name)
            secs, size = run([exe, "tsdb", "create-blocks-from", "openmetrics", src, out], out)
            print(f"{name:9} {secs:7.2f}s  {n / secs:12.0f} samples/s  {size / n:6.3f} bytes/sample")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
