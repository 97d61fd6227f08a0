#!/usr/bin/python3
"""Grafana replay: the calls Grafana's stock Prometheus datasource makes, sent to Prometheus
2.42 and to Kiln holding the same data (api_pair.py), answers compared.

Each case is one HTTP request. Both answers must have the same HTTP status, the same
`status` and `errorType`, and the same `data`: lists of objects or strings compared as
sets, numbers (and numeric strings such as sample values) equal within 1e-9 relative, NaN
equal to NaN. Error messages are compared too; where Prometheus 3.x (what Kiln follows)
reworded one, the case says why and Kiln must give the 3.x text. Prints one line per case and
"N passed, M failed".

Usage: api_grafana_e2e_test.py --build-dir BUILD
"""

import datetime
import json
import math
import re

import yaml

import api_pair
from e2e_lib import http_call

REL = 1e-9


def as_number(x):
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return None
    return None


def same(a, b, path="data"):
    """Returns None when a and b are equal under the rules above, else a description."""
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        if math.isnan(na) and math.isnan(nb):
            return None if a == b else f"{path}: NaN written as {a!r} != {b!r}"
        if na == nb and isinstance(a, str) and isinstance(b, str) and a != b:
            # The same float printed differently ("1e+21" vs "1000000000000000000000"):
            # Prometheus's shortest round-trip format is part of the API.
            return f"{path}: {a!r} and {b!r} are the same number, formatted differently"
        if na == nb or abs(na - nb) <= REL * max(abs(na), abs(nb)):
            return None
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            d = same(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} elements != {len(b)}: {short(a)} vs {short(b)}"
        if all(isinstance(x, (dict, str)) for x in a + b):
            # A set: every element of a has a distinct partner in b.
            unmatched = list(b)
            for x in a:
                hit = next((i for i, y in enumerate(unmatched) if same(x, y) is None), None)
                if hit is None:
                    return f"{path}: {short(x)} has no counterpart in {short(b)}"
                unmatched.pop(hit)
            return None
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if a != b:
        return f"{path}: {short(a)} != {short(b)}"
    return None


def is_empty(data):
    if isinstance(data, dict) and "result" in data:
        return not data["result"]
    return not data


def short(x):
    s = json.dumps(x)
    return s if len(s) < 300 else s[:300] + "..."


RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
RFC3339_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def top_list(pl, kl, path):
    """A top-10 list of {name, value}: upstream breaks ties in no particular order, so the
    values must agree, and the names wherever the value is above the cut-off."""
    if sorted(x["value"] for x in pl) != sorted(x["value"] for x in kl):
        return f"{path}: values {short(pl)} != {short(kl)}"
    cut = min((x["value"] for x in pl), default=0)
    above = lambda lst: {(x["name"], x["value"]) for x in lst if x["value"] > cut}  # noqa: E731
    if above(pl) != above(kl):
        return f"{path}: {sorted(above(pl))} != {sorted(above(kl))}"
    return None


def tsdb_status(pd, kd):
    """/status/tsdb: the head's series and label pairs, its first sample, and the top-10
    cardinality lists (Kiln is fed while it answers, so maxTime and chunks may move)."""
    for key in ("numSeries", "numLabelPairs", "minTime"):
        if pd["headStats"][key] != kd["headStats"].get(key):
            return f"headStats.{key}: {pd['headStats'][key]} != {kd['headStats'].get(key)}"
    if set(pd) != set(kd):
        return f"keys {sorted(pd)} != {sorted(kd)}"
    for key in pd:
        if key != "headStats":
            d = top_list(pd[key], kd[key], key)
            if d:
                return d
    return None


def runtime_info(pd, kd):
    """/status/runtimeinfo: same keys, the same settings, Go's time formats."""
    if set(pd) != set(kd):
        return f"keys {sorted(pd)} != {sorted(kd)}"
    for key in ("CWD", "reloadConfigSuccess", "corruptionCount", "GOMAXPROCS", "GOGC",
                "GODEBUG", "storageRetention"):
        if pd[key] != kd[key]:
            return f"{key}: {pd[key]!r} != {kd[key]!r}"
    if not RFC3339_NANO.match(kd["startTime"]):
        return f"startTime {kd['startTime']!r} is not Go's RFC3339Nano"
    if not RFC3339_SECONDS.match(kd["lastConfigTime"]):
        return f"lastConfigTime {kd['lastConfigTime']!r} is not in whole seconds as upstream's"
    return None


def active_targets(pd, kd):
    """/targets of two servers scraping the same target: everything but the moment and
    duration of the last scrape (globalUrl included: both put their hostname in place of
    the loopback address). droppedTargetCounts is new in 3.x."""
    def norm(d):
        out = []
        for t in d["activeTargets"]:
            t = dict(t)
            for key in ("lastScrape", "lastScrapeDuration"):
                t.pop(key)
            out.append(t)
        return out
    if "droppedTargetCounts" not in kd:
        return "no droppedTargetCounts (Prometheus 3.x has it)"
    return same(norm(pd), norm(kd)) or same(pd["droppedTargets"], kd["droppedTargets"])


def subset(a, b, path):
    """Every key of a in b with an equal value (lists element by element)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                return f"{path}.{k} missing"
            d = subset(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = subset(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {short(a)} != {short(b)}"


def loaded_config(pd, kd):
    """/status/config of two servers loaded from the same file (the scraping Kiln's lacks
    only remote_write): every setting Prometheus 2.42 prints, defaults included, Kiln prints
    with the same value; Kiln may print settings 3.x added."""
    want, got = yaml.safe_load(pd["yaml"]), yaml.safe_load(kd["yaml"])
    want.pop("remote_write", None)
    return subset(want, got, "config")


# `kiln`: the Kiln fed by Prometheus's remote_write, or the one scraping the fixture itself.
# How `data` is compared: "equal" (the rules above), "keys" (same object keys, values
# differ by design, e.g. versions), "length" (same number of elements: upstream picks which
# ones by Go map order).
class Case:
    def __init__(self, name, path, params=(), method="GET", compare="equal", message=True,
                 optional=False, kiln="remote_write", gzip_ok=False, empty_ok=False):
        self.name, self.path, self.params, self.method = name, path, list(params), method
        self.gzip_ok = gzip_ok  # send Accept-Encoding: gzip
        # A successful answer must carry data (an empty answer on both sides proves little)
        # unless the feature has none to give yet (exemplars, rules, alerts) or the case asks
        # for something absent.
        self.empty_ok = empty_ok
        self.compare, self.message, self.optional = compare, message, optional
        self.kiln = kiln  # which Kiln answers: "remote_write" or "scraper"


# Error texts Prometheus 3.x (which Kiln follows) words differently from 2.42: each is a
# reason and a function from 2.42's message to the message 3.x gives, which Kiln must match.
def _sorted_duplicates(msg):
    head, rest = msg.split("operation: [", 1)
    pair, tail = rest.split("];", 1)
    a, b = pair.split("}, {")
    return f"{head}operation: [{', '.join(sorted([a + '}', '{' + b]))}];{tail}"


QUERY_RANGE_PREFIX = ("3.x prefixes query_range parse errors with 'invalid parameter \"query\": ' "
                      "as 2.42 already did for instant queries",
                      lambda msg: 'invalid parameter "query": ' + msg)
SORTED_DUPLICATES = ("3.x lists the two duplicate series sorted by labels (promqltest "
                     "operators.test), 2.42 in the order met", _sorted_duplicates)
REGEX_TEXT = ("3.x parses the regex alone (Go quotes `(`), 2.42 compiled it anchored first "
              "(quoting `^(?:()$`)",
              lambda msg: re.sub(r"`\^\(\?:(.*)\)\$`", r"`\1`", msg))


def rfc3339(seconds):
    t = datetime.datetime.fromtimestamp(float(seconds), datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def cases(t, start, end):
    """t: instant evaluation time; [start, end]: range. Seconds as float strings."""
    ms = lambda s: str(round(float(s) * 1000))  # noqa: E731
    rng = [("start", start), ("end", end)]
    req = "fixture_requests_total"
    return [
        # --- what Grafana sends ---
        Case("health check 1+1 at time=4", "/api/v1/query", [("query", "1+1"), ("time", "4")]),
        Case("buildinfo", "/api/v1/status/buildinfo", compare="keys"),
        Case("labels GET", "/api/v1/labels", rng),
        Case("labels POST", "/api/v1/labels", rng, method="POST"),
        Case("labels no range", "/api/v1/labels"),
        Case("labels match[]", "/api/v1/labels", [("match[]", req)] + rng),
        Case("labels POST 2×match[]", "/api/v1/labels",
             [("match[]", req), ("match[]", 'up{job="fixture"}')] + rng, method="POST"),
        Case("label __name__ values", "/api/v1/label/__name__/values", rng),
        Case("label values match[]", "/api/v1/label/code/values", [("match[]", req)] + rng),
        Case("label values match[] regex", "/api/v1/label/le/values",
             [("match[]", '{__name__=~"fixture_request_duration.*"}')] + rng),
        Case("label values unknown name", "/api/v1/label/nope/values", rng, empty_ok=True),
        Case("label values limit (Grafana 11)", "/api/v1/label/__name__/values",
             rng + [("limit", "40000")]),
        Case("series GET", "/api/v1/series", [("match[]", req)] + rng),
        Case("series POST 2×match[]", "/api/v1/series",
             [("match[]", '{__name__="fixture_temperature_celsius"}'),
              ("match[]", 'fixture_queue_bytes{env="e2e"}')] + rng, method="POST"),
        Case("series no range", "/api/v1/series", [("match[]", "up")]),
        Case("metadata", "/api/v1/metadata"),
        Case("metadata metric=", "/api/v1/metadata", [("metric", req)]),
        Case("metadata metric= histogram", "/api/v1/metadata",
             [("metric", "fixture_request_duration_seconds")]),
        Case("metadata limit=", "/api/v1/metadata", [("limit", "2")], compare="length"),
        Case("metadata unknown metric", "/api/v1/metadata", [("metric", "nope")], empty_ok=True),
        Case("metadata (Kiln scraping)", "/api/v1/metadata", kiln="scraper"),
        Case("metadata metric= histogram (Kiln scraping)", "/api/v1/metadata",
             [("metric", "fixture_request_duration_seconds")], kiln="scraper"),
        Case("targets/metadata (Kiln scraping)", "/api/v1/targets/metadata",
             [("match_target", '{job="fixture"}')], kiln="scraper"),
        Case("targets/metadata metric= (Kiln scraping)", "/api/v1/targets/metadata",
             [("metric", "fixture_queue_bytes")], kiln="scraper"),
        # --- status pages (not Grafana's, compared while both are up) ---
        Case("status/tsdb", "/api/v1/status/tsdb", compare=tsdb_status),
        Case("status/runtimeinfo", "/api/v1/status/runtimeinfo", compare=runtime_info),
        Case("status/walreplay", "/api/v1/status/walreplay"),
        Case("alertmanagers", "/api/v1/alertmanagers", empty_ok=True),
        Case("targets (Kiln scraping)", "/api/v1/targets", kiln="scraper",
             compare=active_targets),
        Case("targets state=dropped (Kiln scraping)", "/api/v1/targets",
             [("state", "dropped")], kiln="scraper", compare=active_targets),
        Case("scrape_pools (Kiln scraping)", "/api/v1/scrape_pools", kiln="scraper"),
        Case("status/config (Kiln scraping)", "/api/v1/status/config", kiln="scraper",
             compare=loaded_config),
        Case("query_range POST rate, float step", "/api/v1/query_range",
             [("query", f"rate({req}[10s])")] + rng + [("step", "2.5")], method="POST"),
        Case("query_range POST sum by", "/api/v1/query_range",
             [("query", f"sum by (code) (rate({req}[5s]))")] + rng + [("step", "0.5")],
             method="POST"),
        Case("query_range POST histogram_quantile", "/api/v1/query_range",
             [("query", "histogram_quantile(0.9, sum by (le) "
                        "(rate(fixture_request_duration_seconds_bucket[10s])))")] + rng +
             [("step", "5")], method="POST"),
        Case("query_range POST topk", "/api/v1/query_range",
             [("query", f"topk(2, {req})")] + rng + [("step", "1.5")], method="POST"),
        Case("query_range GET gauge", "/api/v1/query_range",
             [("query", "fixture_temperature_celsius")] + rng + [("step", "3")]),
        Case("query_range duration step", "/api/v1/query_range",
             [("query", "fixture_queue_bytes")] + rng + [("step", "1s500ms")]),
        Case("instant query POST", "/api/v1/query",
             [("query", "fixture_temperature_celsius"), ("time", t)], method="POST"),
        Case("instant query RFC 3339 time", "/api/v1/query",
             [("query", "fixture_temperature_celsius"), ("time", rfc3339(t))]),
        Case("query_range RFC 3339 times", "/api/v1/query_range",
             [("query", "fixture_queue_bytes"), ("start", rfc3339(start)), ("end", rfc3339(end)),
              ("step", "2")], method="POST"),
        Case("query_range gzip", "/api/v1/query_range",
             [("query", f"rate({req}[10s])")] + rng + [("step", "0.5")], method="POST",
             gzip_ok=True),
        Case("series gzip", "/api/v1/series", [("match[]", '{__name__=~".+"}')] + rng,
             gzip_ok=True),
        Case("error gzip", "/api/v1/query", [("query", "sum(")], gzip_ok=True),
        Case("instant query GET scalar", "/api/v1/query",
             [("query", f"scalar(sum({req}))"), ("time", t)]),
        Case("instant query range selector", "/api/v1/query",
             [("query", "fixture_queue_bytes[5s]"), ("time", t)]),
        Case("instant query string", "/api/v1/query", [("query", '"hi"'), ("time", t)]),
    ] + [
        # Values Prometheus prints in its shortest round-trip form, exponents and specials.
        Case(f"value format {q}", "/api/v1/query", [("query", q), ("time", t)])
        for q in ["fixture_queue_bytes * 1e12", "1/3", "-1 * 0", "1/0", "-1/0", "0/0",
                  "vector(1e-7)", "vector(123456789012345680000)",
                  "scalar(fixture_queue_bytes) / 7"]
    ] + [
        Case("exemplar probe (ms times)", "/api/v1/query_exemplars",
             [("query", "test"), ("start", ms(start)), ("end", ms(end))], empty_ok=True),
        Case("query_exemplars", "/api/v1/query_exemplars", [("query", req)] + rng, empty_ok=True),
        Case("rules", "/api/v1/rules", empty_ok=True),
        Case("rules type=alert", "/api/v1/rules", [("type", "alert")], empty_ok=True),
        Case("alerts", "/api/v1/alerts", empty_ok=True),
        Case("format_query", "/api/v1/format_query",
             [("query", "sum(rate(foo{bar=\"baz\"}[5m]))by(job)")]),
        Case("format_query POST", "/api/v1/format_query", [("query", "a+on(b)group_left c")],
             method="POST"),
        Case("parse_query", "/api/v1/parse_query", [("query", "sum(rate(foo[5m]))")],
             optional=True),
        # --- bad input ---
        Case("unparsable query", "/api/v1/query", [("query", "sum(rate(x[5m])"), ("time", t)]),
        Case("unparsable query_range", "/api/v1/query_range",
             [("query", "foo{")] + rng + [("step", "1")], method="POST",
             message=QUERY_RANGE_PREFIX),
        Case("step 0", "/api/v1/query_range", [("query", "up")] + rng + [("step", "0")]),
        Case("step negative", "/api/v1/query_range", [("query", "up")] + rng + [("step", "-1")]),
        Case("step unparsable", "/api/v1/query_range", [("query", "up")] + rng + [("step", "x")]),
        Case("end before start", "/api/v1/query_range",
             [("query", "up"), ("start", end), ("end", start), ("step", "1")]),
        Case("too many points (11k)", "/api/v1/query_range",
             [("query", "up"), ("start", str(float(end) - 11001)), ("end", end), ("step", "1")]),
        Case("exactly 11k points allowed", "/api/v1/query_range",
             [("query", "up"), ("start", str(float(end) - 10999)), ("end", end), ("step", "1")]),
        Case("bad time", "/api/v1/query", [("query", "up"), ("time", "yesterday")]),
        Case("missing step", "/api/v1/query_range", [("query", "up")] + rng),
        Case("bad timeout", "/api/v1/query", [("query", "up"), ("time", t), ("timeout", "soon")]),
        Case("empty query", "/api/v1/query", [("query", ""), ("time", t)], method="POST"),
        Case("bad start on series", "/api/v1/series", [("match[]", "up"), ("start", "x")]),
        Case("bad start", "/api/v1/query_range",
             [("query", "up"), ("start", "abc"), ("end", end), ("step", "1")]),
        Case("bad start on labels", "/api/v1/labels", [("start", "2023-13-45")]),
        Case("bad matcher series", "/api/v1/series", [("match[]", '{job=~"("}')],
             message=REGEX_TEXT),
        Case("bad matcher labels", "/api/v1/labels", [("match[]", "up{")]),
        Case("bad regex labels", "/api/v1/labels", [("match[]", '{job=~"a)"}')],
             method="POST", message=REGEX_TEXT),
        Case("bad matcher label values", "/api/v1/label/job/values", [("match[]", "{}")]),
        Case("many-to-many matching", "/api/v1/query",
             [("query", f"fixture_temperature_celsius + on(job) {req}"), ("time", t)],
             message=SORTED_DUPLICATES),
        Case("many-to-many group_left", "/api/v1/query",
             [("query", f"fixture_temperature_celsius * on(job) group_left {req}"), ("time", t)],
             message=SORTED_DUPLICATES),
        Case("many-to-one without group_left", "/api/v1/query",
             [("query", f"{req} + on(job) up"), ("time", t)]),
        Case("unknown endpoint", "/api/v1/nope"),
        Case("missing match[] on series", "/api/v1/series", rng),
        Case("series matcher matching empty", "/api/v1/series", [("match[]", '{job=~".*"}')]),
        Case("labels end before start", "/api/v1/labels", [("start", end), ("end", start)],
             empty_ok=True),
        Case("query_range start == end", "/api/v1/query_range",
             [("query", "fixture_queue_bytes"), ("start", end), ("end", end), ("step", "1")]),
        Case("query_range 1 ms step", "/api/v1/query_range",
             [("query", "fixture_queue_bytes"), ("start", str(float(end) - 10.5)), ("end", end),
              ("step", "0.001")], method="POST"),
        Case("missing query", "/api/v1/query", [("time", t)]),
        Case("exemplars end before start", "/api/v1/query_exemplars",
             [("query", req), ("start", end), ("end", start)]),
    ]


def compare(case, prom, kiln):
    (ps, pb, pct, pce), (ks, kb, kct, kce) = prom, kiln
    if ps != ks:
        return f"HTTP {ps} (Prometheus) != {ks} (Kiln): {pb[:200]!r} vs {kb[:200]!r}"
    if pct.split(";")[0] != kct.split(";")[0]:
        return f"Content-Type {pct!r} != {kct!r}"
    if pce != kce:
        return f"Content-Encoding {pce!r} != {kce!r}"
    try:
        pj = json.loads(pb)
    except ValueError:
        # Not JSON (e.g. the router's 404 page): the bodies must match.
        return None if pb == kb else f"body {pb[:200]!r} != {kb[:200]!r}"
    try:
        kj = json.loads(kb)
    except ValueError:
        return f"Kiln's body is not JSON: {kb[:200]!r}"
    for key in ("status", "errorType"):
        if pj.get(key) != kj.get(key):
            return (f"{key}: {pj.get(key)!r} != {kj.get(key)!r} "
                    f"({pj.get('error')!r} / {kj.get('error')!r})")
    want_error = pj.get("error")
    if case.message is not True and want_error is not None:
        want_error = case.message[1](want_error)
    if want_error != kj.get("error"):
        return (f"error message: {want_error!r} (Prometheus: {pj.get('error')!r}) "
                f"!= {kj.get('error')!r}")
    for key in ("warnings", "infos"):
        if pj.get(key) and pj.get(key) != kj.get(key):
            return f"{key}: {pj.get(key)!r} != {kj.get(key)!r}"
    pd, kd = pj.get("data"), kj.get("data")
    if pj.get("status") == "success" and not case.empty_ok and is_empty(pd):
        return f"Prometheus answered no data, so the case compares nothing: {short(pj)}"
    if case.compare == "keys":
        if not isinstance(pd, dict) or not isinstance(kd, dict) or set(pd) != set(kd):
            return f"data keys {short(pd)} != {short(kd)}"
        return None
    if case.compare == "length":
        return None if len(pd) == len(kd) else f"data length {len(pd)} != {len(kd)}"
    if callable(case.compare):
        return case.compare(pd, kd)
    return same(pd, kd)


def self_check():
    """The comparison must be able to fail: known-different answers are told apart."""
    different = [
        ([{"a": "1"}], [{"a": "1.0000001"}]),
        (["x", "y"], ["x", "z"]),
        ([[1, "2"], [2, "3"]], [[2, "3"], [1, "2"]]),  # sample order matters
        ("1e+21", "1000000000000000000000"),
        ("NaN", "1"),
        ({"a": 1}, {"a": 1, "b": 2}),
        ([{"a": "1"}, {"a": "1"}], [{"a": "1"}, {"a": "2"}]),
    ]
    for a, b in different:
        assert same(a, b) is not None, f"comparison cannot tell {a!r} from {b!r}"
    equal = [(["x", "y"], ["y", "x"]), ("0.1", "0.10000000000000002"), ("NaN", "NaN")]
    for a, b in equal:
        assert same(a, b) is None, f"comparison tells {a!r} from {b!r}: {same(a, b)}"


def main_with(pair):
    self_check()
    t, start, end = pair.case_times()
    tally = api_pair.Tally("grafana replay")
    for case in cases(t, start, end):
        prom = http_call(pair.prom.url, case.path, case.params, case.method,
                         gzip_ok=case.gzip_ok)
        kiln_url = pair.scraper.url if case.kiln == "scraper" else pair.kiln.url
        kiln = http_call(kiln_url, case.path, case.params, case.method, gzip_ok=case.gzip_ok)
        if case.optional and prom[0] == 404:
            tally.skip(case.name, "Prometheus 2.42 answers 404")
            continue
        diff = compare(case, prom, kiln)
        if diff:
            tally.fail(case.name, f"{case.method} {case.path} {case.params}", diff)
        else:
            note = "" if case.message is True else f"; 3.x message: {case.message[0]}"
            enc = f", {prom[3]}" if prom[3] else ""
            tally.ok(case.name, f"HTTP {prom[0]}{enc}{note}")
    return tally.exit_code()


if __name__ == "__main__":
    api_pair.main(main_with, "kiln-api-grafana-")
