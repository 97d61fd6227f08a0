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

import argparse
import json
import math
import os
import shutil
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_lib  # noqa: E402
import promwrite  # noqa: E402

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


def start(argv, log_path):
    srv = e2e_lib.Server(argv, log_path)
    deadline = time.time() + 60
    while time.time() < deadline:
        if srv.proc.poll() is not None:
            raise AssertionError(f"exited with {srv.proc.returncode}:\n{srv.read_log()}")
        try:
            with urllib.request.urlopen(srv.url + PREFIX + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return srv
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"not ready:\n{srv.read_log()}")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


PROTO_ACCEPT = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1")


def get_raw(url, accept):
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    kiln_bin = os.path.join(args.build_dir, "bin", "kiln")
    if not os.path.exists("/usr/bin/prometheus") or not os.path.exists(kiln_bin):
        print("SKIP: needs /usr/bin/prometheus and kiln")
        return e2e_lib.SKIP

    tmp = e2e_lib.tempdir("kiln_web_federate_")
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    common = [f"--config.file={cfg}", "--web.listen-address=127.0.0.1:{port}",
              "--web.enable-remote-write-receiver", f"--web.route-prefix={PREFIX}"]
    prom = kiln = None
    failures = []
    try:
        prom = start(["/usr/bin/prometheus", *common, f"--storage.tsdb.path={tmp}/prom",
                      "--log.level=warn"], os.path.join(tmp, "prom.log"))
        kiln = start([kiln_bin, *common, f"--storage.tsdb.path={tmp}/kiln"],
                     os.path.join(tmp, "kiln.log"))
        now = int(time.time() * 1000)
        body = promwrite.encode_write_request(fixture(now))
        for srv in (prom, kiln):
            status = promwrite.post(srv.url + PREFIX + "/api/v1/write", body)
            assert status[0] == 204, f"{srv.url}: remote write answered {status}"

        nonempty = 0
        for q in QUERIES:
            qs = "&".join("match[]=" + urllib.parse.quote(m) for m in q)
            want = get(prom.url + PREFIX + "/federate?" + qs)
            got = get(kiln.url + PREFIX + "/federate?" + qs)
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
            qs = "&".join("match[]=" + urllib.parse.quote(m) for m in q)
            want = get_raw(prom.url + PREFIX + "/federate?" + qs, PROTO_ACCEPT)
            got = get_raw(kiln.url + PREFIX + "/federate?" + qs, PROTO_ACCEPT)
            if (want[0], want[1], proto_families(want[2])) != (got[0], got[1], proto_families(got[2])):
                failures.append(f"protobuf match[]={q}:\n  prometheus {want[:2]} {want[2]!r}\n"
                                f"  kiln       {got[:2]} {got[2]!r}")
            else:
                print(f"ok  protobuf match[]={q} ({len(proto_families(want[2]))} families, "
                      f"{len(want[2])} bytes)")
        # Unprefixed and POST requests: same status on both.
        for path, data in [("/federate?match[]=fed_a", None), (PREFIX + "/federate", b"match[]=fed_a")]:
            codes = []
            for srv in (prom, kiln):
                req = urllib.request.Request(srv.url + path, data=data)
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        codes.append(r.status)
                except urllib.error.HTTPError as e:
                    codes.append(e.code)
            if codes[0] != codes[1]:
                failures.append(f"{'POST' if data else 'GET'} {path}: prometheus {codes[0]}, kiln {codes[1]}")
            else:
                print(f"ok  {codes[0]} {'POST' if data else 'GET'} {path}")

        # The real use: a Prometheus scrapes Kiln's /federate (honor_labels, as the federation
        # docs configure it) and ends up with the same series and values.
        fed_cfg = os.path.join(tmp, "federating.yml")
        with open(fed_cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: federate\n"
                    "    honor_labels: true\n    metrics_path: /pfx/federate\n"
                    "    params:\n      'match[]': ['{__name__=~\"fed_.*\"}']\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{kiln.port}']\n")
        global_prom = e2e_lib.Server(["/usr/bin/prometheus", f"--config.file={fed_cfg}",
                                      f"--storage.tsdb.path={tmp}/global",
                                      "--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                     os.path.join(tmp, "global.log"))
        try:
            global_prom.wait_ready()
            want = {"fed_a", "fed_b", "fed_e", "fed_f", "fed_g"}
            deadline, seen = time.time() + 30, {}
            while time.time() < deadline:
                q = urllib.parse.quote('{__name__=~"fed_.*"}')
                _, _, body = get(f"{global_prom.url}/api/v1/query?query={q}")
                seen = {}
                for r in json.loads(body)["data"]["result"]:
                    m = dict(r["metric"])
                    seen[tuple(sorted(m.items()))] = r["value"][1]
                if {dict(k)["__name__"] for k in seen} == want:
                    break
                time.sleep(0.5)
            # Same series as Kiln federates (external labels included), same values.
            expected = {}
            _, _, text = get(kiln.url + PREFIX + "/federate?match[]=" +
                             urllib.parse.quote('{__name__=~"fed_.*"}'))
            for line in text.splitlines():
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
            missing = set(expected) - set(seen)
            wrong = {k for k in set(expected) & set(seen)
                     if not same_value(expected[k], seen[k])}
            if missing or wrong or len(seen) != len(expected):
                failures.append(f"federating Prometheus: missing {missing}, unexpected "
                                f"{set(seen) - set(expected)}, wrong {wrong}, "
                                f"seen {len(seen)} of {len(expected)}")
            else:
                print(f"ok  a federating Prometheus 2.42 ingested Kiln's /federate "
                      f"({len(seen)} series, values equal)")
        finally:
            global_prom.stop()
    finally:
        for srv in (prom, kiln):
            if srv is not None:
                srv.stop()
    if failures:
        print("FAIL:\n" + "\n".join(failures))
        print(f"(logs kept in {tmp})")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
