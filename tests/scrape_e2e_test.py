#!/usr/bin/python3
"""Side-by-side scraping: Kiln and Prometheus 2.42 read the same prometheus.yml and scrape the
same targets for about a minute, then must hold the same data.

Targets: a real node_exporter (Debian's prometheus-node-exporter on a free port), a fixture
exporter in this process serving Prometheus text (/metrics) and OpenMetrics (/om) with
escapes, NaN/Inf, histograms, summaries, a timestamped sample, label conflicts and
OpenMetrics-only types, and a target on a closed port. The config exercises target
relabeling (drop, dropequal, keepequal, replace with separator, labelmap, uppercase,
lowercase, hashmod, labeldrop) and metric relabeling (drop, keep-by-replace, labeldrop,
replace, lowercase).

Checks, each against Prometheus's answer:
1. /api/v1/targets: the same active target labels and health, the same dropped targets.
2. /api/v1/series over the whole run: identical label sets (none excluded; see
   normalize_prometheus_2 for the one documented Prometheus 3 difference Kiln follows).
3. `up` per target, the scrape_* series names per target, and every fixture sample value
   except scrape_duration_seconds (a timing).
4. Staleness: the fixture drops one series; once both have scraped again, both answer an
   instant query for it with nothing (a stale marker, not the 5m lookback), while the
   series that stayed and an instant query before the drop still answer.

Usage: scrape_e2e_test.py --build-dir BUILD [--duration SECONDS]
"""

import math
import os
import sys
import threading
import time
from decimal import Decimal

import e2e_lib as e2e
from e2e_lib import NODE_EXPORTER, PROMETHEUS, get_json

INTERVAL_S = 2


class Fixture:
    """A small exporter. Its pages are fixed except for the series `vanish()` removes, so both
    servers must store identical values."""

    def __init__(self, timestamp_ms):
        self.lock = threading.Lock()
        self.with_vanishing = True
        self.timestamp_ms = timestamp_ms
        om = "application/openmetrics-text; version=1.0.0; charset=utf-8"
        self.pages = e2e.PageServer({"/metrics": lambda: (self.text_page(), e2e.TEXT_FORMAT),
                                     "/om": lambda: (self.openmetrics_page(), om)})
        self.port = self.pages.port

    def stop(self):
        self.pages.stop()

    def vanish(self):
        with self.lock:
            self.with_vanishing = False

    def text_page(self):
        with self.lock:
            vanishing = self.with_vanishing
        page = [
            "# HELP fixture_http_requests_total Total HTTP requests.",
            "# TYPE fixture_http_requests_total counter",
            'fixture_http_requests_total{code="200",method="get"} 1027',
            'fixture_http_requests_total{code="500",method="get"} 3',
            'fixture_http_requests_total{method="post",code="503"} 1',
            "# random comment that is neither HELP nor TYPE",
            '# HELP fixture_temperature_celsius Temperature \\\\ with "quotes"\\nand a newline.',
            "# TYPE fixture_temperature_celsius gauge",
            'fixture_temperature_celsius{sensor="a",internal_id="17"} 21.5',
            'fixture_temperature_celsius{sensor="b",internal_id="18"} -3e-2   ',
            'fixture_escaped{path="C:\\\\Program Files\\\\x",quote="say \\"hi\\"",nl="one\\ntwo",'
            'utf8="h\u00e9llo \u2603"} 1',
            'fixture_special{kind="nan"} NaN',
            'fixture_special{kind="inf"} +Inf',
            'fixture_special{kind="ninf"} -Inf',
            'fixture_special{kind="big"} 1.7976931348623157e+308',
            'fixture_empty_value{present="yes",absent=""} 4',
            "# HELP fixture_latency_seconds Latency.",
            "# TYPE fixture_latency_seconds histogram",
            'fixture_latency_seconds_bucket{le="0.05"} 1',
            'fixture_latency_seconds_bucket{le="0.5"} 4',
            'fixture_latency_seconds_bucket{le="1"} 6',
            'fixture_latency_seconds_bucket{le="10"} 7',
            'fixture_latency_seconds_bucket{le="+Inf"} 8',
            "fixture_latency_seconds_sum 12.5",
            "fixture_latency_seconds_count 8",
            "# TYPE fixture_rpc_seconds summary",
            'fixture_rpc_seconds{quantile="0.5"} 0.1',
            'fixture_rpc_seconds{quantile="0.99"} 0.9',
            'fixture_rpc_seconds{quantile="1"} 1.5',
            "fixture_rpc_seconds_sum 100",
            "fixture_rpc_seconds_count 300",
            "fixture_debug_goroutines 12",
            'fixture_debug_heap_bytes{internal_id="9"} 1e6',
            # honor_labels is false: job and instance collide with target labels.
            'fixture_conflict{job="inner",instance="inner:1",mode="FAST"} 1',
            "fixture_untyped 5",
            f"fixture_timestamped 7 {self.timestamp_ms}",
            'fixture_vanishing{kind="stays"} 2',
        ]
        if vanishing:
            page.append('fixture_vanishing{kind="goes"} 1')
        return "\n".join(page) + "\n"

    def openmetrics_page(self):
        created = self.timestamp_ms / 1000
        return "\n".join([
            "# TYPE om_requests counter",
            "# HELP om_requests Requests.",
            'om_requests_total{path="/a"} 10',
            f'om_requests_created{{path="/a"}} {created}',
            "# TYPE om_latency_seconds histogram",
            "# UNIT om_latency_seconds seconds",
            'om_latency_seconds_bucket{le="0.1"} 1 # {trace_id="abc"} 0.05',
            'om_latency_seconds_bucket{le="1.0"} 2',
            'om_latency_seconds_bucket{le="2"} 2',
            'om_latency_seconds_bucket{le="+Inf"} 3',
            "om_latency_seconds_sum 1.5",
            "om_latency_seconds_count 3",
            f"om_latency_seconds_created {created}",
            "# TYPE om_queue gaugehistogram",
            'om_queue_bucket{le="5"} 3',
            'om_queue_bucket{le="+Inf"} 4',
            "om_queue_gcount 4",
            "om_queue_gsum 11",
            "# TYPE om_rpc summary",
            'om_rpc{quantile="0"} 0.01',
            'om_rpc{quantile="0.9"} 0.2',
            "om_rpc_sum 3.0",
            "om_rpc_count 20",
            "# TYPE om_state stateset",
            'om_state{om_state="ready"} 1',
            'om_state{om_state="starting"} 0',
            "# TYPE om_build info",
            'om_build_info{version="1.2.3",revision="abc"} 1',
            "# TYPE om_temperature_celsius gauge",
            "# UNIT om_temperature_celsius celsius",
            'om_temperature_celsius{room="x"} 21.25',
            "# TYPE om_unknown unknown",
            "om_unknown 3",
            "# EOF",
        ]) + "\n"


def write_config(path, node_port, fixture_port, dead_port):
    fx = f"127.0.0.1:{fixture_port}"
    with open(path, "w") as f:
        f.write(f"""
global:
  scrape_interval: {INTERVAL_S}s
  scrape_timeout: {INTERVAL_S}s  # generous: the machine may be busy
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:{node_port}']
        labels: {{env: Test, rack: R1}}
    relabel_configs:
      - source_labels: [env]
        target_label: env
        action: lowercase
      - source_labels: [__address__]
        regex: '(.*):(\\d+)'
        target_label: host
        replacement: 'host-${{1}}'
      - source_labels: [__address__]
        target_label: shard
        modulus: 8
        action: hashmod
      - regex: rack
        action: labeldrop
    metric_relabel_configs:
      # Values that change every scrape are fine, but keep the page to the usual families.
      - source_labels: [__name__]
        regex: '(go|node|process|promhttp)_.*'
        action: keep
      - source_labels: [__name__]
        regex: 'node_scrape_collector_duration_seconds'
        action: drop
  - job_name: fixture
    static_configs:
      - targets: ['{fx}']
        labels: {{__metrics_path__: /metrics, __tmp_team: storage, scheme_copy: http}}
      - targets: ['{fx}']
        labels: {{__metrics_path__: /om, __tmp_team: Storage, scheme_copy: http}}
      - targets: ['{fx}']
        labels: {{__metrics_path__: /metrics, drop_me: 'yes', scheme_copy: http}}
      - targets: ['127.0.0.1:{dead_port}']
        labels: {{__metrics_path__: /metrics, forbidden: /metrics, scheme_copy: http}}
      - targets: ['127.0.0.1:{dead_port}']
        labels: {{__metrics_path__: /gone, scheme_copy: https}}
      - targets: ['127.0.0.1:{dead_port}']
        labels: {{__metrics_path__: /dead, scheme_copy: http}}
    relabel_configs:
      - source_labels: [drop_me]
        regex: 'yes'
        action: drop
      - source_labels: [__metrics_path__]
        target_label: forbidden
        action: dropequal
      - source_labels: [__scheme__]
        target_label: scheme_copy
        action: keepequal
      - regex: scheme_copy
        action: labeldrop
      - source_labels: [__address__, __metrics_path__]
        separator: ''
        target_label: instance
      - regex: '__tmp_(.+)'
        replacement: 'owner_$1'
        action: labelmap
      - source_labels: [owner_team]
        target_label: owner_team
        action: uppercase
      - source_labels: [__metrics_path__]
        regex: '/(.*)'
        target_label: format
        replacement: 'fmt_${{1}}'
      - source_labels: [__address__]
        target_label: shard
        modulus: 16
        action: hashmod
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'fixture_debug_.*'
        action: drop
      - regex: internal_id
        action: labeldrop
      - source_labels: [__name__, code]
        regex: 'fixture_http_requests_total;5..'
        target_label: class
        replacement: server_error
      - source_labels: [mode]
        target_label: mode
        action: lowercase
""")


def go_float(text):
    """Prometheus 3's float format for le/quantile values (Go's 'g' shortest, ".0" appended to
    integers): 1 → 1.0, 0.5 → 0.5, 1e+06, +Inf."""
    f = float(text)
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    digits = "".join(map(str, digits))
    exp10 = len(digits) - 1 + exp
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:  # Go's 'g' switches to %e there for shortest output
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    s = format(Decimal(repr(f)), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s if "." in s else s + ".0"


def normalize_prometheus_2(series, types):
    """Kiln follows Prometheus 3, which normalises the `le` of classic histograms and the
    `quantile` of summaries to its float format at ingestion ("1" → "1.0"; see "le and
    quantile label values" in the Prometheus 3.0 migration guide). Prometheus 2.42 stores
    them as written. This applies exactly that rule to 2.42's label sets, using the metric
    types 2.42 itself reports in /api/v1/metadata; nothing else is changed."""
    name = series["__name__"]
    out = dict(series)
    if "le" in series and name.endswith("_bucket") and \
            types.get(name[:-len("_bucket")]) in ("histogram", "gaugehistogram"):
        out["le"] = go_float(series["le"])
    if "quantile" in series and types.get(name) == "summary":
        out["quantile"] = go_float(series["quantile"])
    return out


def label_set(series):
    return tuple(sorted(series.items()))


def fmt(ls):
    d = dict(ls)
    name = d.pop("__name__", "")
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}"


def compare_sets(what, want, got, limit=15):
    missing = sorted(want - got)
    extra = sorted(got - want)
    if missing or extra:
        lines = [f"{what}: Prometheus has {len(want)}, Kiln {len(got)}"]
        lines += [f"  only in Prometheus: {fmt(s)}" for s in missing[:limit]]
        lines += [f"  only in Kiln:       {fmt(s)}" for s in extra[:limit]]
        raise AssertionError("\n".join(lines))


def instant(url, query, t):
    data = get_json(url, "/api/v1/query", query=query, time=f"{t:.3f}")
    return {label_set(r["metric"]): r["value"][1] for r in data["result"]}


def check_targets(prom, kiln):
    def summary(url):
        d = get_json(url, "/api/v1/targets")
        active = {(label_set(t["labels"]), t["health"], t["scrapeUrl"]) for t in d["activeTargets"]}
        dropped = {label_set(t["discoveredLabels"]) for t in d["droppedTargets"]}
        return active, dropped
    p_active, p_dropped = summary(prom)
    k_active, k_dropped = summary(kiln)
    assert p_active == k_active, f"active targets differ:\nprometheus {sorted(p_active)}\nkiln {sorted(k_active)}"
    assert p_dropped == k_dropped, f"dropped targets differ:\nprometheus {sorted(p_dropped)}\nkiln {sorted(k_dropped)}"
    assert len(p_active) == 4 and len(p_dropped) == 3, (p_active, p_dropped)
    assert sum(1 for a in p_active if a[1] == "down") == 1, p_active
    print(f"targets: {len(p_active)} active, {len(p_dropped)} dropped, identical")


def check_series(prom, kiln, start, end):
    types = {name: ms[0]["type"] for name, ms in get_json(prom, "/api/v1/metadata").items()}
    match = {"match[]": '{__name__=~".+"}', "start": f"{start:.3f}", "end": f"{end:.3f}"}
    raw = get_json(prom, "/api/v1/series", **match)
    want = {label_set(normalize_prometheus_2(s, types)) for s in raw}
    normalized = len(want - {label_set(s) for s in raw})
    got = {label_set(s) for s in get_json(kiln, "/api/v1/series", **match)}
    compare_sets("series", want, got)
    jobs = {}
    for s in want:
        job = dict(s)["job"]
        jobs[job] = jobs.get(job, 0) + 1
    assert jobs.get("node", 0) > 300 and jobs.get("fixture", 0) > 60, jobs
    # The fixture's le="1", le="10", quantile="1" and node_exporter's quantile="0"/"1".
    assert normalized >= 5, f"only {normalized} le/quantile values normalised"
    print(f"series: {len(want)} identical label sets ({jobs}; {normalized} with le/quantile "
          "in Prometheus 3's float format)")


def check_up_and_report(prom, kiln, t):
    want, got = instant(prom, "up", t), instant(kiln, "up", t)
    assert want == got, f"up differs:\nprometheus {want}\nkiln {got}"
    assert sorted(want.values()) == ["0", "1", "1", "1"], want
    q = '{__name__=~"scrape_.+"}'
    want, got = set(instant(prom, q, t)), set(instant(kiln, q, t))
    compare_sets("scrape_* series", want, got)
    assert len(want) == 16, f"4 scrape_* series for each of 4 targets, got {len(want)}"
    print(f"up and scrape_* series: identical ({len(want)} report series)")


def check_fixture_values(prom, kiln, t):
    # Every sample of the fixture job is deterministic except how long a scrape took.
    q = '{job="fixture",__name__!="scrape_duration_seconds"}'
    want, got = instant(prom, q, t), instant(kiln, q, t)
    # Label sets are compared above (with le/quantile normalised); key values by the
    # normalised form here as well.
    types = {name: ms[0]["type"] for name, ms in get_json(prom, "/api/v1/metadata").items()}
    want = {label_set(normalize_prometheus_2(dict(k), types)): v for k, v in want.items()}
    compare_sets("fixture series at one instant", set(want), set(got))
    diffs = [f"  {fmt(k)}: prometheus {want[k]} kiln {got[k]}" for k in want if want[k] != got[k]]
    assert not diffs, "fixture values differ:\n" + "\n".join(diffs)
    print(f"fixture values: {len(want)} samples equal")


def scrape_times_after(url, instance, after):
    """Timestamps (s) of the `up` samples of `instance` later than `after`."""
    data = get_json(url, "/api/v1/query", query=f'up{{instance="{instance}"}}[1m]',
                    time=f"{time.time():.3f}")
    assert len(data["result"]) == 1, data
    return [float(t) for t, _ in data["result"][0]["values"] if float(t) > after]


def check_staleness(prom, kiln, fixture):
    goes, stays = 'fixture_vanishing{kind="goes"}', 'fixture_vanishing{kind="stays"}'
    instance = f"127.0.0.1:{fixture.port}/metrics"
    before = time.time()
    for url in (prom, kiln):
        assert len(instant(url, goes, before)) == 1, f"{url}: {goes} missing before the drop"
    fixture.vanish()
    flipped = time.time()
    # Wait for each one's next scrape of the fixture, seen through its `up` sample, which is
    # committed together with that scrape's stale markers.
    e2e.wait_until(lambda: all(scrape_times_after(u, instance, flipped) for u in (prom, kiln)),
                   60, f"a scrape of {instance} by both since the drop")
    for name, url in (("prometheus", prom), ("kiln", kiln)):
        after = scrape_times_after(url, instance, flipped)
        assert after, f"{name}: no scrape of {instance} since the drop"
        # At the first scrape after the drop: a stale marker hides the series at once, where
        # without one the 5m lookback would still return the previous sample.
        assert instant(url, goes, after[0]) == {}, \
            f"{name}: {goes} still answers at the first scrape after the drop ({after[0]})"
        assert len(instant(url, stays, after[0])) == 1, f"{name}: {stays} lost"
        assert len(instant(url, goes, before)) == 1, f"{name}: {goes} lost its past samples"
    print("staleness: the vanished series answers nothing from the next scrape on, in both")


def compare_scrapes(args, work):
    fixture = Fixture(timestamp_ms=int(time.time() * 1000) - 10_000)
    # Bound but not listening: the target is down for both, and no other process can start
    # listening there during the run.
    dead, dead_port = e2e.reserved_port()
    try:
        node = e2e.Server([NODE_EXPORTER, "--web.listen-address=127.0.0.1:{port}"],
                          os.path.join(work, "node.log"), probe=e2e.answers_200("/metrics"))
        node.wait_ready()  # its port is final once it answers
        config = os.path.join(work, "prometheus.yml")
        write_config(config, node.port, fixture.port, dead_port)
        prom = e2e.prometheus(os.path.join(work, "prom-data"), config,
                              os.path.join(work, "prom.log"))
        kiln = e2e.kiln(args.build_dir, os.path.join(work, "kiln-data"),
                        os.path.join(work, "kiln.log"), config=config, receiver=False)
        prom.wait_ready()
        kiln.wait_ready()
        start = time.time()
        time.sleep(args.duration)  # the span both scrape for, not a guess at speed
        end = time.time()
        failures = 0
        for check in (lambda: check_targets(prom.url, kiln.url),
                      lambda: check_series(prom.url, kiln.url, start - 60, end),
                      lambda: check_up_and_report(prom.url, kiln.url, end),
                      lambda: check_fixture_values(prom.url, kiln.url, end),
                      lambda: check_staleness(prom.url, kiln.url, fixture)):
            try:
                check()
            except AssertionError as e:
                failures += 1
                print(f"FAIL: {e}")
        for s in (node, prom, kiln):
            s.stop()
        if failures:
            return 1
        print("scrape e2e: 5 passed, 0 failed")
        return 0
    finally:
        fixture.stop()
        dead.close()


if __name__ == "__main__":
    sys.exit(e2e.main(compare_scrapes, "kiln-scrape-e2e-", needs=(PROMETHEUS, NODE_EXPORTER),
                      add_args=lambda ap: ap.add_argument("--duration", type=float, default=60)))
