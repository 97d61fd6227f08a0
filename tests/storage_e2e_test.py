#!/usr/bin/python3
"""End-to-end: Kiln's persistent storage (blocks, compaction, head truncation) next to
Prometheus 2.42 on the same data directories.

1. prometheus → kiln: a data directory written by Prometheus 2.42 (blocks backfilled by
   `promtool tsdb create-blocks-from openmetrics`, samples remote-written into Debian's
   `prometheus`, which compacts part of its head into a block) is opened by `kiln`; every
   query_range answer equals Prometheus's on its own copy of the directory, and
   `kilntool tsdb dump` of it equals `promtool tsdb dump`.
2. kiln → promtool: kiln with a short --storage.tsdb.min-block-duration writes head blocks
   (and merges them) while samples arrive; after `kill -9`, `promtool tsdb list` lists the
   blocks and `promtool tsdb dump` / `kilntool tsdb dump` return exactly the acknowledged
   samples; a restarted kiln serves them all, and Prometheus on a copy of Kiln's directory
   answers the same queries identically.

Usage: storage_e2e_test.py --build-dir BUILD
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time

import e2e_lib as e2e
from e2e_lib import PROMTOOL, diff
MIN = 60 * 1000
HOUR = 60 * MIN
# Sample timestamps sit 7 s off the query grid: Kiln follows Prometheus 3's left-open range
# selectors, 2.42 includes a sample exactly at t - range; off-grid samples make both agree.
SKEW = 7000


def series_labels(n, name_prefix):
    out = []
    for i in range(n):
        name = f"{name_prefix}_{'counter' if i % 2 == 0 else 'gauge'}"
        out.append([("__name__", name), ("instance", f"host-{i % 3}"), ("job", "storage"),
                    ("series", str(i))])
    return out


def time_ordered_batches(labels, start_ms, end_ms, step_ms, seed, per_request=5):
    """Remote-write requests in time order: `per_request` timestamps per request, every series
    at every timestamp. Counters grow, gauges wander; values are exact in JSON and dumps."""
    rng = random.Random(seed)
    values = [0.0] * len(labels)
    batch_ts = []
    for t in range(start_ms, end_ms, step_ms):
        batch_ts.append(t)
        if len(batch_ts) < per_request:
            continue
        yield make_batch(labels, batch_ts, values, rng)
        batch_ts = []
    if batch_ts:
        yield make_batch(labels, batch_ts, values, rng)


def make_batch(labels, ts, values, rng):
    batch = []
    for i, ls in enumerate(labels):
        pts = []
        for t in ts:
            if ls[0][1].endswith("counter"):
                values[i] += rng.randint(0, 20)
            else:
                values[i] = rng.randint(-500, 500) / 4
            pts.append((t, values[i]))
        batch.append((ls, pts))
    return batch


def write_openmetrics(path, labels, start_ms, end_ms, step_ms, seed):
    """An OpenMetrics file for `promtool tsdb create-blocks-from openmetrics`; returns the
    samples it holds as a dump set."""
    rng = random.Random(seed)
    want = set()
    by_family = {}
    for ls in labels:
        by_family.setdefault(ls[0][1], []).append(ls)
    with open(path, "w") as f:
        for family, members in sorted(by_family.items()):
            kind = "counter" if family.endswith("counter") else "gauge"
            f.write(f"# HELP {family} Backfilled for the storage e2e test.\n# TYPE {family} {kind}\n")
            for ls in members:
                inner = ",".join(f'{n}="{v}"' for n, v in ls[1:])
                key = "{" + ", ".join(f'{n}="{v}"' for n, v in ls) + "}"
                v = 0.0
                for t in range(start_ms, end_ms, step_ms):
                    v = v + rng.randint(0, 9) if kind == "counter" else rng.randint(-100, 100) / 8
                    name = family + ("_total" if kind == "counter" else "")
                    f.write(f"{name}{{{inner}}} {v} {t / 1000:.3f}\n")
                    want.add((key.replace(family, name, 1), float(v), t))
        f.write("# EOF\n")
    return want


def query_range(url, query, start_ms, end_ms, step_s):
    data = e2e.get_json(url, "/api/v1/query_range", query=query, start=f"{start_ms / 1000:.3f}",
                        end=f"{end_ms / 1000:.3f}", step=str(step_s))
    return sorted(data["result"], key=lambda s: json.dumps(s["metric"], sort_keys=True))


def first_difference(got, want):
    if len(got) != len(want):
        return f"kiln {len(got)} series, prometheus {len(want)}"
    for g, w in zip(got, want):
        if g["metric"] != w["metric"]:
            return f"series kiln {g['metric']} vs prometheus {w['metric']}"
        gv, wv = dict(map(tuple, g["values"])), dict(map(tuple, w["values"]))
        for t in sorted(set(gv) | set(wv)):
            if gv.get(t) != wv.get(t):
                return f"{w['metric']} at {t}: kiln {gv.get(t)}, prometheus {wv.get(t)}"
    return "?"


def compare_queries(kiln_url, prom_url, queries, start_ms, end_ms, step_s, what):
    total = 0
    for q in queries:
        got = query_range(kiln_url, q, start_ms, end_ms, step_s)
        want = query_range(prom_url, q, start_ms, end_ms, step_s)
        assert got == want, f"{what}: query_range {q!r} differs: {first_difference(got, want)}"
        points = sum(len(s["values"]) for s in want)
        assert points > 0, f"{what}: {q!r} returned no data"
        total += points
    return total


def metric(url, name):
    value = e2e.self_metric(url, name)
    return 0.0 if value is None else value


def prometheus_config(work):
    return e2e.minimal_config(work, "prom.yml")


def serve_both(args, work, data, pristine, tag, check, kiln_extra=()):
    """Kiln on `data`, Prometheus on a fresh copy of `pristine`; returns check(kiln, prom).
    Kiln must then exit cleanly."""
    prom_copy = os.path.join(work, f"{tag}-copy")
    shutil.copytree(pristine, prom_copy)
    kiln = e2e.kiln(args.build_dir, data, os.path.join(work, f"{tag}-kiln.log"),
                    extra=kiln_extra)
    prom = e2e.prometheus(prom_copy, prometheus_config(work),
                          os.path.join(work, f"{tag}-prom.log"))
    try:
        kiln.wait_ready()
        prom.wait_ready()
        result = check(kiln, prom)
        assert kiln.stop() == 0, "kiln did not exit cleanly"
        return result
    finally:
        kiln.stop()
        prom.stop()


def test_prometheus_dir_in_kiln(args, work, now):
    data = os.path.join(work, "prom-data")
    os.makedirs(data)
    # Backfilled blocks: 30h to 26h ago, every 30 s.
    om = os.path.join(work, "backfill.om")
    want = write_openmetrics(om, series_labels(6, "storage_bf"), now - 30 * HOUR + SKEW,
                             now - 26 * HOUR, 30 * 1000, seed=11)
    r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", om, data],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"promtool create-blocks-from failed: {r.stderr[-2000:]}"
    # Remote-written samples, 4h30m ago until now: Prometheus compacts the oldest 2h window
    # of its head into a block on its own while they arrive.
    labels = series_labels(8, "storage_rw")
    batches = list(time_ordered_batches(labels, now - 4 * HOUR - 30 * MIN + SKEW, now, 15 * 1000,
                                        seed=12))
    srv = e2e.prometheus(data, prometheus_config(work), os.path.join(work, "prom-write.log"))
    srv.wait_ready()
    e2e.ack_all(srv.url, batches)
    e2e.wait_until(lambda: metric(srv.url, "prometheus_tsdb_compactions_total") >= 1, 180,
                   "Prometheus compacting its head", interval=0.5)
    srv.kill9()  # Kiln must also cope with a WAL Prometheus did not close
    want |= e2e.expected_set(batches)
    blocks = [d for d in os.listdir(data) if os.path.exists(os.path.join(data, d, "meta.json"))]
    assert len(blocks) >= 3, f"expected backfilled and compacted blocks, found {blocks}"

    # Dumps of a pristine copy: promtool's and kilntool's agree, and hold every sample.
    pristine = os.path.join(work, "prom-data-pristine")
    shutil.copytree(data, pristine)
    e2e.assert_dumps(args.kilntool, pristine, want, "Prometheus's directory")

    # Kiln on the directory, Prometheus on a copy of it: the same answers.
    # Storage, not engine, is under test: queries whose semantics did not change between
    # Prometheus 2.42 and the 3.x semantics Kiln follows (rate's extrapolation did).
    queries = ['{__name__=~"storage_.+"}', "sum by (instance) (storage_rw_gauge)",
               "count_over_time(storage_bf_counter_total[10m])", 'count({job="storage"})',
               "max_over_time(storage_bf_gauge[1h])",
               "storage_rw_counter - storage_rw_counter offset 5m"]
    points = serve_both(args, work, data, pristine, "prom-data", lambda kiln, prom: compare_queries(
        kiln.url, prom.url, queries, now - 31 * HOUR, now, 60, "Prometheus's directory"))
    print(f"prometheus→kiln: {len(want)} samples in {len(blocks)} blocks + WAL; dumps identical; "
          f"{len(queries)} range queries ({points} points) identical")


def test_kiln_blocks_in_promtool(args, work, now):
    data = os.path.join(work, "kiln-data")
    labels = series_labels(8, "storage_kiln")
    batches = list(time_ordered_batches(labels, now - 3 * HOUR + SKEW, now, 15 * 1000, seed=21))
    kiln = e2e.kiln(args.build_dir, data, os.path.join(work, "kiln-write.log"),
                    extra=["--storage.tsdb.min-block-duration=20m"])
    kiln.wait_ready()
    e2e.ack_all(kiln.url, batches)
    # 3h of samples with 20m blocks: head blocks every 20m (at least 6 compactions), merged
    # into 1h blocks (fewer than the nine 20m blocks loaded), and the head truncated. Polled
    # until all three hold: a busy machine only makes the cycle take longer.
    state = {}

    def compacted_and_merged():
        state.update((k, metric(kiln.url, "prometheus_tsdb_" + k)) for k in
                     ("compactions_total", "blocks_loaded", "head_truncations_total"))
        return (state["compactions_total"] >= 6 and 0 < state["blocks_loaded"] < 9 and
                state["head_truncations_total"] >= 1)

    e2e.wait_until(compacted_and_merged, 180,
                   lambda: f"kiln's head blocks compacted and merged: {state}")
    # Best effort, asserting nothing: let a merge in progress finish (the count stays put
    # for a second) so the kill lands between compactions as a rule; one landing mid-merge
    # is a crash Kiln must survive anyway.
    compactions = state["compactions_total"]
    for _ in range(30):
        time.sleep(1)
        now_count = metric(kiln.url, "prometheus_tsdb_compactions_total")
        if now_count == compactions:
            break
        compactions = now_count
    kiln.kill9()
    want = e2e.expected_set(batches)

    r = subprocess.run([PROMTOOL, "tsdb", "list", data], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"promtool tsdb list failed: {r.stderr[-2000:]}"
    listed = [line for line in r.stdout.splitlines()[1:] if line.strip()]
    assert len(listed) >= 2, f"promtool lists too few blocks:\n{r.stdout}"
    pristine = os.path.join(work, "kiln-data-pristine")
    shutil.copytree(data, pristine)
    e2e.assert_dumps(args.kilntool, pristine, want, "Kiln's blocks + WAL")

    # Restart after kill -9: every sample is served, and Prometheus on a copy of Kiln's
    # directory answers identically.
    queries = ['{__name__=~"storage_kiln.+"}', "count_over_time(storage_kiln_counter[5m])",
               "avg by (instance) (storage_kiln_gauge)",
               "storage_kiln_counter - storage_kiln_counter offset 1m"]

    def check(kiln, prom):
        points = compare_queries(kiln.url, prom.url, queries, now - 3 * HOUR - 10 * MIN, now, 15,
                                 "Kiln's directory")
        # On the sample grid, every step returns exactly one sample per series.
        raw = query_range(kiln.url, '{__name__=~"storage_kiln.+"}', now - 3 * HOUR + SKEW,
                          now - 15 * 1000 + SKEW, 15)
        served = sum(len(s["values"]) for s in raw)
        assert served == len(want), f"restarted kiln serves {served} of {len(want)} samples"
        return points

    points = serve_both(args, work, data, pristine, "kiln-data", check,
                        kiln_extra=["--storage.tsdb.min-block-duration=20m"])
    got = e2e.dump(PROMTOOL, data)
    assert got == want, diff("promtool dump after the restart", want, got)
    print(f"kiln→promtool: {len(listed)} blocks listed, {len(want)} samples identical after kill -9 "
          f"and restart ({int(compactions)} compactions); {points} points identical to Prometheus")


def run(args, work):
    # Whole minutes, so query steps line up with sample timestamps the same way each run.
    now = int(time.time()) // 60 * 60 * 1000
    test_prometheus_dir_in_kiln(args, work, now)
    test_kiln_blocks_in_promtool(args, work, now)
    print("storage e2e: 2 passed, 0 failed")


if __name__ == "__main__":
    sys.exit(e2e.main(run, "kiln-storage-e2e-", needs=(e2e.PROMETHEUS, PROMTOOL)))
