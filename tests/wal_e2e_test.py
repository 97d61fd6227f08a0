#!/usr/bin/python3
"""End-to-end durability and format compatibility of Kiln's write-ahead log.

1. kiln → promtool: samples acknowledged by Kiln's remote_write receiver survive `kill -9`,
   and Prometheus 2.42's `promtool tsdb dump` reads exactly them (none missing, none extra)
   from Kiln's data directory; `kilntool tsdb dump` prints the same set.
2. prometheus → kilntool: `kilntool tsdb dump` of a WAL written by Prometheus 2.42 equals
   `promtool tsdb dump` of it.
3. Fault injection: after a torn page, a flipped bit, a truncated record or a truncated
   segment at the WAL's tail, Kiln starts, reports the damage in its log, and keeps every
   acknowledged sample written before the damage.

Usage: wal_e2e_test.py --build-dir BUILD
"""

import glob
import os
import shutil
import sys

import e2e_lib as e2e
from e2e_lib import PROMTOOL, diff


def test_kiln_to_promtool(args, work):
    data = os.path.join(work, "kiln-data")
    srv = e2e.kiln(args.build_dir, data, os.path.join(work, "kiln1.log"))
    srv.wait_ready()
    acked = e2e.ack_all(srv.url, list(e2e.random_batches(seed=1, n_requests=60)))
    srv.kill9()
    want = e2e.expected_set(acked)
    e2e.assert_dumps(args.kilntool, data, want, "Kiln's data")

    # Kiln restarts on its own WAL after kill -9 and keeps serving writes.
    srv = e2e.kiln(args.build_dir, data, os.path.join(work, "kiln2.log"))
    srv.wait_ready()
    more = e2e.ack_all(srv.url, list(e2e.random_batches(seed=2, n_requests=5,
                                                    start_ms=max(t for _, _, t in want) + 1000)))
    assert srv.stop() == 0, "kiln did not exit cleanly on SIGTERM"
    want |= e2e.expected_set(more)
    got = e2e.dump(PROMTOOL, data)
    assert got == want, diff("promtool dump after restart", want, got)
    print(f"kiln→promtool: {len(want)} samples identical")
    return data, acked


def test_prometheus_to_kilntool(args, work):
    data = os.path.join(work, "prom-data")
    srv = e2e.prometheus(data, e2e.minimal_config(work, "prom.yml"), os.path.join(work, "prom.log"))
    srv.wait_ready()
    acked = e2e.ack_all(srv.url, list(e2e.random_batches(seed=3, n_requests=40)))
    srv.kill9()
    want = e2e.expected_set(acked)
    e2e.assert_dumps(args.kilntool, data, want, "Prometheus's data")
    print(f"prometheus→kilntool: {len(want)} samples identical")


def last_segment(data):
    segs = sorted(p for p in glob.glob(os.path.join(data, "wal", "[0-9]*")) if os.path.getsize(p) > 0)
    assert segs, "no non-empty WAL segment"
    return segs[-1]


# Each fault damages the last WAL segment and returns the offset where the damage starts.
def truncate_tail(path):
    cut = os.path.getsize(path) - 37
    os.truncate(path, cut)
    return cut


def flip_bit(path):
    at = os.path.getsize(path) - 25
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x10]))
    return at


def torn_page(path):
    at = os.path.getsize(path) - 120
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(b"\0" * 120)
    return at


def truncated_segment(path):
    # The file ends at the last 32 KiB page boundary: a crash lost the partial page after it.
    size = os.path.getsize(path)
    page = 32 * 1024
    cut = (size - 1) // page * page
    os.truncate(path, cut)
    return cut


FAULTS = {"truncated record": truncate_tail, "flipped CRC bit": flip_bit,
          "torn page": torn_page, "truncated segment": truncated_segment}


def test_fault_injection(args, work):
    # After each acknowledged request, note where the WAL ends: a request whose records all
    # end before the damage offset must survive the repair.
    base = os.path.join(work, "fault-base")
    srv = e2e.kiln(args.build_dir, base, os.path.join(work, "fault-base.log"))
    srv.wait_ready()
    acked, ends = [], []
    for b in e2e.random_batches(seed=4, n_requests=300):
        status, text = e2e.send(srv.url, b)
        assert status // 100 == 2, f"remote_write answered {status}: {text}"
        seg = last_segment(base)
        acked.append(b)
        ends.append((os.path.basename(seg), os.path.getsize(seg)))
    srv.kill9()
    all_acked = e2e.expected_set(acked)
    for name, inject in FAULTS.items():
        data = os.path.join(work, "fault-" + name.replace(" ", "-"))
        shutil.copytree(base, data)
        seg = last_segment(data)
        at = inject(seg)
        before = [b for b, (s, end) in zip(acked, ends)
                  if s < os.path.basename(seg) or end <= at]
        assert len(before) > len(acked) // 2, f"{name}: damage too early to be a tail fault"
        log = os.path.join(work, f"fault-{name.replace(' ', '-')}.log")
        srv = e2e.kiln(args.build_dir, data, log)
        srv.wait_ready()
        text = srv.read_log().lower()
        assert "corrupt" in text or "repair" in text, f"{name}: damage not reported in the log:\n{text}"
        assert srv.stop() == 0, f"{name}: kiln did not exit cleanly"
        got = e2e.dump(PROMTOOL, data)
        must_keep = e2e.expected_set(before)
        assert got <= all_acked, diff(f"{name}: samples that were never written", all_acked, got)
        assert must_keep <= got, diff(f"{name}: samples lost before the damage", must_keep, got)
        print(f"fault '{name}' at offset {at}: kept {len(got)} of {len(all_acked)} samples, "
              f"all {len(must_keep)} acknowledged before the damage")


def run(args, work):
    test_kiln_to_promtool(args, work)
    test_prometheus_to_kilntool(args, work)
    test_fault_injection(args, work)
    print("wal e2e: 3 passed, 0 failed")


if __name__ == "__main__":
    sys.exit(e2e.main(run, "kiln-wal-e2e-", needs=(e2e.PROMETHEUS, PROMTOOL)))
