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

import os
import signal
import sys
import time

import e2e_lib as e2e
from e2e_lib import PROMETHEUS, get_json
from scrape_e2e_test import Fixture

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
    value = e2e.self_metric(url, name)
    assert value is not None, f"{url}/metrics has no {name}"
    return value


def pool_counters(url):
    return (self_metric(url, "prometheus_target_scrape_pools_total"),
            self_metric(url, "prometheus_target_scrape_pool_reloads_total"))


def series_added_since(url, since):
    """(timestamp, scrape_series_added) of the scrapes after `since` (unix seconds)."""
    data = get_json(url, "/api/v1/query", query="scrape_series_added[2m]", time=f"{time.time():.3f}")
    assert len(data["result"]) == 1, data
    return [(float(t), int(float(v))) for t, v in data["result"][0]["values"] if float(t) > since]


def reload_both(servers, how):
    for s in servers.values():
        if how == "sighup":
            s.proc.send_signal(signal.SIGHUP)
        else:
            r = e2e.request(s.url + "/-/reload", "POST")
            assert r.status == 200, f"{s.url}/-/reload: {r.status} {r.text}"


def since_reload(scrapes, began, returned):
    """The scrape_series_added values from the reload on. A scrape stamped while the reload
    was under way (between `began` and `returned`) may still be the old loop's last: it
    reports 0 added, and is left out when it leads; any other belongs to the new loop."""
    i = 0
    while i < len(scrapes) and scrapes[i][0] < returned and scrapes[i][1] == 0:
        i += 1
    return [v for _, v in scrapes[i:]]


def step(name, servers, how, check):
    began = time.time()
    reload_both(servers, how)
    returned = time.time()
    # Three scrapes each after the reload (polled: a busy machine may delay them).
    e2e.wait_until(lambda: all(len(series_added_since(s.url, returned)) >= 3
                               for s in servers.values()), 60, f"three scrapes after {name}")
    results = {}
    for label, s in servers.items():
        results[label] = (pool_counters(s.url),
                          since_reload(series_added_since(s.url, began), began, returned))
    check(results)
    print(f"{name}: {results}")


def compare_reloads(args, work):
    fixture = Fixture(timestamp_ms=int(time.time() * 1000) - 10_000)
    config = os.path.join(work, "prometheus.yml")
    write_config(config, fixture.port)
    lifecycle = ["--web.enable-lifecycle"]
    prom = e2e.prometheus(os.path.join(work, "prom-data"), config, os.path.join(work, "prom.log"),
                          extra=lifecycle, receiver=False)
    kiln = e2e.kiln(args.build_dir, os.path.join(work, "kiln-data"),
                    os.path.join(work, "kiln.log"), extra=lifecycle, config=config,
                    receiver=False)
    servers = {"prometheus": prom, "kiln": kiln}
    failures = 0
    try:
        prom.wait_ready()
        kiln.wait_ready()

        # Until both have scraped a few times (Prometheus hands targets over after ~5s).
        def scraped_thrice():
            try:
                return all(len(series_added_since(s.url, 0)) >= 3 for s in servers.values())
            except AssertionError:  # no scrape yet
                return False

        e2e.wait_until(scraped_thrice, 120, "three scrapes by both", interval=0.5)
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
        # The dropped series went stale in both: polled, but well within the 5m lookback that
        # would keep it visible without a stale marker.
        for label, s in servers.items():
            def gone():
                return not get_json(s.url, "/api/v1/query", query="fixture_temperature_celsius",
                                    time=f"{time.time():.3f}")["result"]
            try:
                e2e.wait_until(gone, 30, "fixture_temperature_celsius answering nothing")
            except AssertionError as e:
                failures += 1
                print(f"FAIL: {label}: after the reload that drops it: {e}")
        if failures:
            return 1
        print("scrape reload e2e: 4 passed, 0 failed")
        return 0
    finally:
        fixture.stop()


if __name__ == "__main__":
    sys.exit(e2e.main(compare_reloads, "kiln-scrape-reload-e2e-", needs=(PROMETHEUS,)))
