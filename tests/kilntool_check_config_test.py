#!/usr/bin/python3
"""`kilntool check config` agrees with Prometheus 2.42's `promtool check config` on every
config in pkg/config/testdata (exit code, Checking/SUCCESS layout), except where Prometheus
3.x, which Kiln follows, differs from 2.42 — each such file named below with the reason."""

import glob
import os
import subprocess
import sys

import e2e_lib as e2e
from e2e_lib import PROMTOOL, ROOT

# file name -> (kiln's exit code, why it differs from 2.42)
DIFFERS_IN_3X = {
    "alertmanager_v1.yml": (1, "Prometheus 3.0 removed Alertmanager API v1 (api_version: v1)"),
    "full.yml": (0, "uses http_headers and otlp, added to prometheus.yml after 2.42"),
}


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def check_all(args, work):
    files = sorted(glob.glob(os.path.join(ROOT, "pkg/config/testdata/**/*.yml"), recursive=True))
    files.append("/etc/prometheus/prometheus.yml")
    passed = failed = 0
    for f in files:
        if not os.path.exists(f):
            continue
        p_rc, p_out, _ = run([PROMTOOL, "check", "config", f])
        k_rc, k_out, k_err = run([args.kilntool, "check", "config", f])
        want_rc = DIFFERS_IN_3X.get(os.path.basename(f), (p_rc, ""))[0]
        ok = k_rc == want_rc
        # Same stdout layout: promtool's and kilntool's "Checking"/"SUCCESS" lines.
        if ok and want_rc == p_rc:
            ok = k_out == p_out
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {f}: promtool rc={p_rc} kilntool rc={k_rc}\n  promtool: {p_out!r}\n"
                  f"  kilntool: {k_out!r} {k_err!r}")
    print(f"check config: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(e2e.main(check_all, "kiln-check-config-", needs=(PROMTOOL,)))
