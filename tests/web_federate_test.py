#!/usr/bin/python3
"""/federate against Prometheus 2.42 on identical data: both servers run with the same
external_labels and --web.route-prefix, receive the same remote_write requests (recent samples,
a stale marker, NaN/±Inf/-0, an escaped label value, a series older than the lookback window,
one series carrying an external label's name), and answer the same match[] sets. Bodies are
compared byte for byte after sorting the sample lines inside each `# TYPE` family (Prometheus
orders series of one name by an unstable sort); status codes, Content-Type and error texts
must be identical. The protobuf exposition is compared the same way (each family's fields byte
for byte, its metrics as a sorted list of encoded messages). Finally a third Prometheus scrapes
Kiln's /federate (honor_labels) and must hold exactly the federated series and values."""

import math
import os
import struct
import sys
import time
import urllib.parse

import e2e_lib as e2e
import promwrite
from e2e_lib import PROMETHEUS

STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
PREFIX = "/pfx"

CONFIG = """global:
  scrape_interval: 1h
  external_labels:
    dc: east
    zone: z1
"""

# (match[] values) sets asked of both servers.
QUERIES = [
    ['{__name__=~".+"}'],
    ["fed_a", '{job="j1"}'],
    ['{job=~".*"}'],
    ["fed_stale", "fed_old"],
    ['fed_f{job!="k"}', 'fed_e{job="k"}', 'fed_f{job="k"}'],
    ["{}"],
    [],
    ["nonexistent"],
    ['{__name__=~"fed_(a|b)"}'],
    # Bad input: both must answer 400 with the parser's message.
    ["fed_a{"],
    ["fed_a", "sum(fed_a)"],
    ['{job="j1"'],
    ["fed_a[5m]"],
]


def fixture(now):
    return [
        ([("__name__", "fed_a"), ("job", "j1")], [(now - 20000, 1.0), (now - 10000, 2.5)]),
        ([("__name__", "fed_a"), ("instance", "i1"), ("job", "j1")], [(now - 10000, float("nan"))]),
        ([("__name__", "fed_b"), ("dc", "mine"), ("zz", 'q"uo\\te\nnl')], [(now - 9000, 1e21)]),
        ([("__name__", "fed_stale"), ("job", "j")], [(now - 20000, 3.0), (now - 10000, STALE)]),
        ([("__name__", "fed_old"), ("job", "j")], [(now - 600000, 3.0)]),
        ([("__name__", "fed_e"), ("job", "j")], [(now - 1000, float("inf"))]),
        ([("__name__", "fed_e"), ("job", "k")], [(now - 1000, -0.0)]),
        ([("__name__", "fed_e"), ("job", "m")], [(now - 1000, float("-inf"))]),
        ([("__name__", "fed_f"), ("job", "k")], [(now - 1000, 1234567.0)]),
        ([("__name__", "fed_f"), ("job", "l")], [(now - 2000, 0.000012), (now - 1000, 1.0)]),
        ([("__name__", "fed_f"), ("job", "n")], [(now - 1000, -1.0)]),
        ([("__name__", "fed_f"), ("job", "o")], [(now - 1000, 123456.789)]),
        ([("__name__", "fed_g"), ("instance", "host:9100"), ("job", "node"), ("zone", "z9")],
         [(now - 3000, 0.1)]),
    ]


def get(url):
    r = e2e.request(url)
    return r.status, r.headers.get("Content-Type"), r.body.decode()


PROTO_ACCEPT = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1")


def get_raw(url, accept):
    r = e2e.request(url, headers={"Accept": accept})
    return r.status, r.headers.get("Content-Type"), r.body


def varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, i


def proto_families(buf):
    """Delimited MetricFamily messages -> [(fields other than metric, sorted metric bytes)]:
    the family order kept, its metrics' order ignored (upstream's sort is unstable)."""
    out, i = [], 0
    while i < len(buf):
        n, i = varint(buf, i)
        msg, i = buf[i:i + n], i + n
        head, metrics, j = [], [], 0
        while j < len(msg):
            key, j = varint(msg, j)
            if key & 7 == 2:
                ln, j = varint(msg, j)
                val, j = msg[j:j + ln], j + ln
            elif key & 7 == 0:
                val, j = varint(msg, j)
            else:
                raise AssertionError(f"unexpected wire type in {msg!r}")
            (metrics if key >> 3 == 4 else head).append(val if key >> 3 == 4 else (key, val))
        out.append((head, sorted(metrics)))
    return out


def parse_labels(text):
    """`a="x",b="y\\"z"` (text-format label pairs) -> [(name, unescaped value)]."""
    out, i = [], 0
    while i < len(text):
        eq = text.index("=", i)
        name, i, value = text[i:eq], eq + 2, []
        while text[i] != '"':
            if text[i] == "\\":
                value.append({"n": "\n", "\\": "\\", '"': '"'}[text[i + 1]])
                i += 2
            else:
                value.append(text[i])
                i += 1
        out.append((name, "".join(value)))
        i += 2  # closing quote and comma
    return out


def same_value(a, b):
    fa, fb = float(a), float(b)
    return (math.isnan(fa) and math.isnan(fb)) or fa == fb


def canonical(body):
    """The body with the sample lines of each family sorted; family order is kept."""
    out, family = [], []
    for line in body.splitlines(keepends=True):
        if line.startswith("# TYPE "):
            out += sorted(family)
            family = []
            out.append(line)
        else:
            family.append(line)
    out += sorted(family)
    return "".join(out)


def federate_url(srv, matchers):
    return srv.url + PREFIX + "/federate?" + "&".join("match[]=" + urllib.parse.quote(m)
                                                      for m in matchers)


def compare_answers(prom, kiln, failures):
    """The same match[] sets, text and protobuf, asked of both; unprefixed and POST too."""
    nonempty = 0
    for q in QUERIES:
        want, got = get(federate_url(prom, q)), get(federate_url(kiln, q))
        if want[2]:
            nonempty += 1
        if (want[0], want[1], canonical(want[2])) != (got[0], got[1], canonical(got[2])):
            failures.append(f"match[]={q}:\n  prometheus {want[0]} {want[1]}\n{want[2]}"
                            f"  kiln       {got[0]} {got[1]}\n{got[2]}")
        else:
            print(f"ok  {want[0]} match[]={q} ({want[2].count(chr(10))} lines)")
    # The comparison must not pass vacuously.
    assert nonempty >= 6, f"only {nonempty} non-empty answers"
    # The protobuf exposition (Accept as Prometheus's own scraper sends it).
    for q in QUERIES[:5]:
        want = get_raw(federate_url(prom, q), PROTO_ACCEPT)
        got = get_raw(federate_url(kiln, q), PROTO_ACCEPT)
        if (want[0], want[1], proto_families(want[2])) != (got[0], got[1], proto_families(got[2])):
            failures.append(f"protobuf match[]={q}:\n  prometheus {want[:2]} {want[2]!r}\n"
                            f"  kiln       {got[:2]} {got[2]!r}")
        else:
            print(f"ok  protobuf match[]={q} ({len(proto_families(want[2]))} families, "
                  f"{len(want[2])} bytes)")
    # Unprefixed and POST requests: same status on both.
    for path, data in [("/federate?match[]=fed_a", None), (PREFIX + "/federate", b"match[]=fed_a")]:
        method = "POST" if data else "GET"
        codes = [e2e.request(srv.url + path, method, data).status for srv in (prom, kiln)]
        if codes[0] != codes[1]:
            failures.append(f"{method} {path}: prometheus {codes[0]}, kiln {codes[1]}")
        else:
            print(f"ok  {codes[0]} {method} {path}")


def federated_series(kiln):
    """{sorted label pairs: value} a Prometheus scraping Kiln's /federate must end up with."""
    expected = {}
    for line in get(federate_url(kiln, ['{__name__=~"fed_.*"}']))[2].splitlines():
        if line.startswith("#"):
            continue
        name, _, rest = line.partition("{")
        labels_part, _, tail = rest.rpartition("} ")
        labels = dict(parse_labels(labels_part))
        # instance="" keeps the scraper's instance label off; a missing job gets the
        # scrape job's name (honor_labels keeps only what the exposition carries).
        labels = {k: v for k, v in labels.items() if v != ""}
        labels.setdefault("job", "federate")
        labels["__name__"] = name
        expected[tuple(sorted(labels.items()))] = tail.split(" ")[0]
    return expected


def check_federating_prometheus(kiln, tmp, failures):
    """The real use: a Prometheus scrapes Kiln's /federate (honor_labels, as the federation
    docs configure it) and ends up with the same series and values."""
    fed_cfg = e2e.write_file(
        os.path.join(tmp, "federating.yml"),
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: federate\n"
        "    honor_labels: true\n    metrics_path: /pfx/federate\n"
        "    params:\n      'match[]': ['{__name__=~\"fed_.*\"}']\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{kiln.port}']\n")
    global_prom = e2e.prometheus(f"{tmp}/global", fed_cfg, os.path.join(tmp, "global.log"),
                                 receiver=False)
    try:
        global_prom.wait_ready()
        want = {"fed_a", "fed_b", "fed_e", "fed_f", "fed_g"}
        seen = {}

        def scraped_all_names():
            seen.clear()
            for r in e2e.get_json(global_prom.url, "/api/v1/query",
                                  query='{__name__=~"fed_.*"}')["result"]:
                seen[tuple(sorted(r["metric"].items()))] = r["value"][1]
            return {dict(k)["__name__"] for k in seen} == want

        # Polled: Prometheus waits a few seconds before its first scrape, longer when busy.
        e2e.wait_until(scraped_all_names, 120,
                       lambda: f"federating Prometheus holds {sorted(seen)}", interval=0.5)
    finally:
        global_prom.stop()
    # Same series as Kiln federates (external labels included), same values.
    expected = federated_series(kiln)
    missing = set(expected) - set(seen)
    wrong = {k for k in set(expected) & set(seen) if not same_value(expected[k], seen[k])}
    if missing or wrong or len(seen) != len(expected):
        failures.append(f"federating Prometheus: missing {missing}, unexpected "
                        f"{set(seen) - set(expected)}, wrong {wrong}, "
                        f"seen {len(seen)} of {len(expected)}")
    else:
        print(f"ok  a federating Prometheus 2.42 ingested Kiln's /federate "
              f"({len(seen)} series, values equal)")


def compare_federation(args, tmp):
    cfg = e2e.write_file(os.path.join(tmp, "prometheus.yml"), CONFIG)
    common = [f"--config.file={cfg}", "--web.listen-address=127.0.0.1:{port}",
              "--web.enable-remote-write-receiver", f"--web.route-prefix={PREFIX}"]
    prom = e2e.Server([PROMETHEUS, *common, f"--storage.tsdb.path={tmp}/prom", "--log.level=warn"],
                      os.path.join(tmp, "prom.log"), route_prefix=PREFIX)
    kiln = e2e.Server([args.kiln, *common, f"--storage.tsdb.path={tmp}/kiln"],
                      os.path.join(tmp, "kiln.log"), route_prefix=PREFIX)
    prom.wait_ready()
    kiln.wait_ready()
    body = promwrite.encode_write_request(fixture(int(time.time() * 1000)))
    for srv in (prom, kiln):
        status = promwrite.post(srv.url + PREFIX + "/api/v1/write", body)
        assert status[0] == 204, f"{srv.url}: remote write answered {status}"
    failures = []
    compare_answers(prom, kiln, failures)
    check_federating_prometheus(kiln, tmp, failures)
    return e2e.report(failures)


if __name__ == "__main__":
    sys.exit(e2e.main(compare_federation, "kiln-web-federate-", needs=(PROMETHEUS,)))
