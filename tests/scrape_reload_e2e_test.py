#!/usr/bin/python3
"""Scrape loops across configuration reloads, Kiln next to Prometheus 2.42.

Both scrape the fixture exporter of scrape_e2e_test.py every second from the same
prometheus.yml, then go through three reloads, each applied to both the same way:

1. SIGHUP with the file unchanged: the running loop and its series cache keep going (no pool
   reload counted, and no scrape after it reports a series as added, which a loop restarted
   with an empty cache would).
2. /-/reload with only scrape_timeout changed: the loop restarts with the new settings but
   keeps its cache (upstream's reusableCache), so again nothing counts as added.
3. /-/reload with a new metric_relabel_configs rule: the cache is rebuilt (the first scrape
   reports every kept series as added, the same number in both), and the series the rule now
   drops answer nothing soon after (stale markers) in both.

prometheus_target_scrape_pool_reloads_total and prometheus_target_scrape_pools_total from
each server's /metrics must agree at every step.

Usage: scrape_reload_e2e_test.py --build-dir BUILD
"""

import argparse
import os
import shutil
import signal
import sys
import time
import urllib.request

import e2e_lib as e2e
from scrape_e2e_test import PROMETHEUS, Fixture, get_json

INTERVAL_S = 1


def write_config(path, fixture_port, timeout="1s", extra=""):
    with open(path, "w") as f:
        f.write(f"""
global:
  scrape_interval: {INTERVAL_S}s
scrape_configs:
  - job_name: fixture
    scrape_timeout: {timeout}
    static_configs:
      - targets: ['127.0.0.1:{fixture_port}']
{extra}""")


DROP_TEMPERATURE = """    metric_relabel_configs:
      - source_labels: [__name__]
        regex: fixture_temperature_celsius
        action: drop
"""


def self_metric(url, name):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{url}/metrics has no {name}")


def pool_counters(url):
    return (self_metric(url, "prometheus_target_scrape_pools_total"),
            self_metric(url, "prometheus_target_scrape_pool_reloads_total"))


def series_added_since(url, since):
    """The scrape_series_added values of the scrapes after `since` (unix seconds)."""
    data = get_json(url, "/api/v1/query", query="scrape_series_added[2m]", time=f"{time.time():.3f}")
    assert len(data["result"]) == 1, data
    return [int(float(v)) for t, v in data["result"][0]["values"] if float(t) > since]


def post(url, path):
    req = urllib.request.Request(url + path, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200, f"{url}{path}: {r.status}"


def reload_both(servers, how):
    for s in servers.values():
        if how == "sighup":
            s.proc.send_signal(signal.SIGHUP)
        else:
            post(s.url, "/-/reload")


def step(name, servers, how, check):
    before = time.time()
    reload_both(servers, how)
    # Three scrapes each after the reload (polled: a busy machine may delay them).
    deadline = time.time() + 20 * INTERVAL_S
    while time.time() < deadline and \
            not all(len(series_added_since(s.url, before)) >= 3 for s in servers.values()):
        time.sleep(0.2)
    results = {}
    for label, s in servers.items():
        results[label] = (pool_counters(s.url), series_added_since(s.url, before))
    check(results)
    print(f"{name}: {results}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    if not os.path.exists(PROMETHEUS):
        print(f"SKIP: {PROMETHEUS} is not installed")
        return e2e.SKIP
    work = e2e.tempdir("kiln-scrape-reload-e2e-")
    fixture = Fixture(timestamp_ms=int(time.time() * 1000) - 10_000)
    config = os.path.join(work, "prometheus.yml")
    write_config(config, fixture.port)
    prom = e2e.Server([PROMETHEUS, f"--config.file={config}",
                       f"--storage.tsdb.path={os.path.join(work, 'prom-data')}",
                       "--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
                       "--log.level=warn"], os.path.join(work, "prom.log"))
    kiln = e2e.Server([os.path.join(args.build_dir, "bin", "kiln"), f"--config.file={config}",
                       f"--storage.tsdb.path={os.path.join(work, 'kiln-data')}",
                       "--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
                      os.path.join(work, "kiln.log"))
    servers = {"prometheus": prom, "kiln": kiln}
    failures = 0
    try:
        prom.wait_ready()
        kiln.wait_ready()
        # Until both have scraped a few times (Prometheus hands targets over after ~5s).
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if all(len(series_added_since(s.url, 0)) >= 3 for s in servers.values()):
                    break
            except AssertionError:
                pass
            time.sleep(0.5)
        start = {k: pool_counters(s.url) for k, s in servers.items()}
        assert start["prometheus"] == start["kiln"] == (1.0, 0.0), start

        def unchanged(results):
            for label, (counters, added) in results.items():
                assert counters == (1.0, 0.0), f"{label}: pools/reloads {counters} after SIGHUP"
                assert len(added) >= 2 and set(added) == {0}, \
                    f"{label}: series added after an unchanged reload: {added}"

        def timeout_only(results):
            for label, (counters, added) in results.items():
                assert counters == (1.0, 1.0), f"{label}: pools/reloads {counters}"
                assert len(added) >= 2 and set(added) == {0}, \
                    f"{label}: the cache did not survive a timeout change: {added}"

        def relabel(results):
            first = {}
            for label, (counters, added) in results.items():
                assert counters == (1.0, 2.0), f"{label}: pools/reloads {counters}"
                assert len(added) >= 2 and added[0] > 20 and added[-1] == 0, \
                    f"{label}: a metric relabeling change must rebuild the cache: {added}"
                first[label] = added[0]
            assert first["prometheus"] == first["kiln"], f"series added after the reload: {first}"
            # Prometheus sometimes reports the rebuilt cache's series twice (its old loop's
            # end-of-run staleness races with the new loop); Kiln's new loop counts them once.
            kiln_added = results["kiln"][1]
            assert set(kiln_added[1:]) == {0}, f"kiln: series added after the first scrape: {kiln_added}"

        checks = [
            ("SIGHUP, config unchanged", "sighup", None, unchanged),
            ("/-/reload, scrape_timeout changed", "http", ("500ms", ""), timeout_only),
            ("/-/reload, metric_relabel_configs added", "http", ("500ms", DROP_TEMPERATURE), relabel),
        ]
        for name, how, change, check in checks:
            if change:
                write_config(config, fixture.port, timeout=change[0], extra=change[1])
            try:
                step(name, servers, how, check)
            except AssertionError as e:
                failures += 1
                print(f"FAIL: {name}: {e}")
        # The dropped series went stale in both (well within the 5m lookback).
        time.sleep(1.5 * INTERVAL_S)
        for label, s in servers.items():
            got = get_json(s.url, "/api/v1/query", query="fixture_temperature_celsius",
                           time=f"{time.time():.3f}")["result"]
            if got:
                failures += 1
                print(f"FAIL: {label}: fixture_temperature_celsius still answers after the reload "
                      f"that drops it: {got}")
        if failures:
            with open(kiln.log_path) as f:
                print(f"kiln log tail:\n{f.read()[-3000:]}")
            return 1
        print("scrape reload e2e: 4 passed, 0 failed")
        return 0
    finally:
        for s in servers.values():
            s.stop()
        fixture.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
