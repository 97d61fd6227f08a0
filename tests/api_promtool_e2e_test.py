#!/usr/bin/python3
"""Debian's `promtool query instant|range|series|labels` against Kiln prints what it prints
against Prometheus 2.42 holding the same data (api_pair.py).

Every case runs promtool twice, once per server, and compares exit codes and output: stdout
exactly (promtool prints results in the order the server sends them), stderr with the server
address removed, and -o json output parsed. Prints one line per case and "N passed, M failed".

Usage: api_promtool_e2e_test.py --build-dir BUILD
"""

import json
import subprocess

import api_pair


def cases(t, start, end):
    req = "fixture_requests_total"
    return [
        ("instant selector", ["instant", "--time", t, "{url}", "fixture_temperature_celsius"]),
        ("instant rate", ["instant", "--time", t, "{url}", f"sort(rate({req}[10s]))"]),
        ("instant sum by", ["instant", "--time", t, "{url}", f"sum by (code) ({req})"]),
        ("instant scalar", ["instant", "--time", t, "{url}", "scalar(fixture_queue_bytes) * 2"]),
        ("instant 1+1 at 4", ["instant", "--time", "4", "{url}", "1+1"]),
        ("instant RFC 3339 time", ["instant", "--time", "1970-01-01T00:00:04Z", "{url}", "time()"]),
        ("instant json", ["-o", "json", "instant", "--time", t, "{url}", f"topk(2, {req})"]),
        ("instant empty", ["instant", "--time", t, "{url}", "nope"]),
        ("instant parse error", ["instant", "--time", t, "{url}", "sum(rate(x[5m])"]),
        ("instant execution error", ["instant", "--time", t, "{url}",
                                     "fixture_temperature_celsius + on(job) up"]),
        ("range rate", ["range", "--start", start, "--end", end, "--step", "2500ms", "{url}",
                        f"rate({req}[10s])"]),
        ("range histogram_quantile", ["range", "--start", start, "--end", end, "--step", "5s",
                                      "{url}",
                                      "histogram_quantile(0.9, sum by (le) "
                                      "(rate(fixture_request_duration_seconds_bucket[10s])))"]),
        ("range json", ["-o", "json", "range", "--start", start, "--end", end, "--step", "3s",
                        "{url}", "fixture_temperature_celsius"]),
        ("range too many points", ["range", "--start", str(float(end) - 11001), "--end", end,
                                   "--step", "1s", "{url}", "up"]),
        ("series", ["series", "--match", req, "--start", start, "--end", end, "{url}"]),
        ("series two matchers", ["series", "--match", "up", "--match",
                                 '{__name__=~"fixture_request_duration_seconds_.*"}', "{url}"]),
        ("series json", ["-o", "json", "series", "--match", "fixture_build_info", "{url}"]),
        ("series bad matcher", ["series", "--match", "up{", "{url}"]),
        ("labels __name__", ["labels", "--start", start, "--end", end, "{url}", "__name__"]),
        ("labels with match", ["labels", "--match", req, "{url}", "code"]),
        ("labels json", ["-o", "json", "labels", "{url}", "job"]),
        ("labels unknown", ["labels", "{url}", "nope"]),
    ]


def run(argv, url):
    argv = [api_pair.PROMTOOL, "query"] + [a.replace("{url}", url) for a in argv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr.replace(url, "{url}")


def compare(argv, prom, kiln):
    if prom[0] != kiln[0]:
        return f"exit code {prom[0]} != {kiln[0]}; stderr {prom[2]!r} vs {kiln[2]!r}"
    if "json" in argv and prom[0] == 0:
        pj, kj = json.loads(prom[1]), json.loads(kiln[1])
        key = lambda x: json.dumps(x, sort_keys=True)  # noqa: E731
        if isinstance(pj, list) and all(isinstance(x, dict) for x in pj + kj):
            pj, kj = sorted(pj, key=key), sorted(kj, key=key)
        return None if pj == kj else f"json {prom[1][:300]!r} != {kiln[1][:300]!r}"
    if prom[1] != kiln[1]:
        return f"stdout differs:\n--- prometheus\n{prom[1][:1500]}--- kiln\n{kiln[1][:1500]}"
    if prom[2] != kiln[2]:
        return f"stderr {prom[2]!r} != {kiln[2]!r}"
    return None


def main_with(pair):
    t, start, end = pair.case_times()
    tally = api_pair.Tally("promtool query")
    for name, argv in cases(t, start, end):
        prom = run(argv, pair.prom.url)
        kiln = run(argv, pair.kiln.url)
        diff = compare(argv, prom, kiln)
        if diff:
            tally.fail(name, f"promtool query {' '.join(argv)}", diff)
        else:
            tally.ok(name, f"exit {prom[0]}, {len(prom[1].splitlines())} lines")
    return tally.exit_code()


if __name__ == "__main__":
    api_pair.main(main_with, "kiln-api-promtool-")
