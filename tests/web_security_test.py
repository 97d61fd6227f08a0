#!/usr/bin/python3
"""--web.config.file end to end (issue 5's done-when), next to Prometheus 2.42: the test makes
a CA and a server certificate (openssl CLI) and a bcrypt hash (libcrypt through python3's
crypt), starts the real kiln and Debian's prometheus with the same web config, and asks both
the same questions with curl --cacert:

  * no credentials, wrong password, unknown user, non-Basic auth -> 401, WWW-Authenticate: Basic
  * the right user -> 200, /api/v1/query?query=1 answers the scalar 1
  * configured response headers on every answer
  * plain HTTP against the TLS port is not served (Go's fixed 400 answer, same bytes)
  * a certificate from another CA is refused by curl
  * with client_auth_type RequireAndVerifyClientCert: a client certificate from the configured
    CA is served, none or one from another CA is refused, by both servers

Status codes and the security-relevant headers must be identical. Then bad web configs: both
servers must refuse to start (non-zero exit), and Kiln's message must name the file and field.
"""

import json
import os
import subprocess
import sys
import warnings

import e2e_lib as e2e
from e2e_lib import PROMETHEUS, PROMTOOL

HEADERS = ["www-authenticate", "content-type", "x-content-type-options", "x-frame-options",
           "strict-transport-security"]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{cmd} failed: {r.stderr}")
    return r


def make_pki(d, name):
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt",
         "-days", "1", "-subj", f"/CN={name}"])
    with open(f"{d}/san.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for who in ("server", "client"):
        run(["openssl", "req", *ec, "-keyout", f"{d}/{who}.key", "-out", f"{d}/{who}.csr",
             "-subj", f"/CN={who}"])
        run(["openssl", "x509", "-req", "-in", f"{d}/{who}.csr", "-CA", f"{d}/ca.crt", "-CAkey",
             f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/{who}.crt", "-days", "1",
             "-extfile", f"{d}/san.ext"])


def bcrypt_hash(password):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import crypt  # Debian's python3.11 still has it; it is libcrypt's crypt()
    h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 6))
    assert h and h.startswith("$2"), h
    return h


def curl(url, ca, *extra):
    """Returns (exit code, status, {header: value}, body) of one HTTP/1.1 request."""
    r = subprocess.run(["curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", ca,
                        "-D", "-", *extra, url], capture_output=True, timeout=30)
    if r.returncode != 0:
        return r.returncode, None, {}, r.stderr.decode(errors="replace")
    raw = r.stdout.decode(errors="replace")
    head, _, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return 0, status, hdrs, body


def start_pair(args, tmp, prom_cfg, web_config, tag, ca, auth, *curl_extra):
    """Prometheus and Kiln on the same web config, ready once /-/ready answers 200 over TLS
    with `auth` (and curl_extra, e.g. a client certificate)."""
    def ready(srv):
        rc, status, _, _ = curl(f"https://127.0.0.1:{srv.port}/-/ready", ca, "-u", auth,
                                *curl_extra)
        return rc == 0 and status == 200

    flag = [f"--web.config.file={web_config}"]
    servers = {
        "prometheus": e2e.prometheus(f"{tmp}/p{tag}", prom_cfg, f"{tmp}/prom{tag}.log",
                                     extra=flag, receiver=False, probe=ready),
        "kiln": e2e.kiln(args.build_dir, f"{tmp}/k{tag}", f"{tmp}/kiln{tag}.log", extra=flag,
                         config=prom_cfg, receiver=False, probe=ready),
    }
    for srv in servers.values():
        srv.wait_ready()
    return servers


def compare_security(args, tmp):
    make_pki(f"{tmp}/pki", "kiln-e2e-ca")
    make_pki(f"{tmp}/other", "other-ca")
    ca = f"{tmp}/pki/ca.crt"
    web = f"{tmp}/web.yml"
    with open(web, "w") as f:
        f.write("tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n"
                "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                "    Strict-Transport-Security: max-age=31536000\n"
                f"basic_auth_users:\n  alice: '{bcrypt_hash('s3cret')}'\n")
    prom_cfg = e2e.minimal_config(tmp)
    failures = []
    servers = {}
    try:
        servers = start_pair(args, tmp, prom_cfg, web, "", ca, "alice:s3cret")

        cases = [
            ("no credentials", "/api/v1/query?query=1", []),
            ("wrong password", "/api/v1/query?query=1", ["-u", "alice:wrong"]),
            ("unknown user", "/api/v1/query?query=1", ["-u", "bob:s3cret"]),
            ("bearer token", "/api/v1/query?query=1", ["-H", "Authorization: Bearer s3cret"]),
            ("authenticated query", "/api/v1/query?query=1", ["-u", "alice:s3cret"]),
            ("authenticated query at time=4", "/api/v1/query?query=1&time=4", ["-u", "alice:s3cret"]),
            ("authenticated health", "/-/healthy", ["-u", "alice:s3cret"]),
            ("unauthenticated health", "/-/healthy", []),
            ("authenticated 404", "/nope", ["-u", "alice:s3cret"]),
        ]
        for name, path, extra in cases:
            answers = {}
            for sname, srv in servers.items():
                answers[sname] = curl(f"https://127.0.0.1:{srv.port}{path}", ca, *extra)
            p, k = answers["prometheus"], answers["kiln"]
            if k[0] != 0:
                failures.append(f"{name}: kiln curl failed: {k[3]}")
                continue
            pick = lambda a: (a[1], {h: a[2].get(h) for h in HEADERS})  # noqa: E731
            if pick(p) != pick(k):
                failures.append(f"{name}: prometheus {pick(p)}\n  kiln {pick(k)}")
                continue
            if k[1] == 401 and (k[3] != "Unauthorized\n" or k[2].get("www-authenticate") != "Basic"):
                failures.append(f"{name}: kiln 401 body/header {k[3]!r} {k[2]}")
                continue
            if path.startswith("/api/v1/query") and k[1] == 200:
                doc = json.loads(k[3])
                if doc["status"] != "success" or doc["data"]["resultType"] != "scalar" or \
                        doc["data"]["result"][1] != "1":
                    failures.append(f"{name}: kiln answered {k[3]}")
                    continue
                if "time=4" in path and k[3] != p[3]:
                    failures.append(f"{name}: bodies differ: prometheus {p[3]} kiln {k[3]}")
                    continue
            print(f"ok  {name}: {k[1]} (same status and headers as Prometheus)")
        # The web config is re-read while serving: a user added to the file is let in, the
        # removed one is not, without a restart, on both servers.
        with open(web) as f:
            text = f.read()
        with open(web, "w") as f:
            f.write(text.replace("  alice:", f"  bob: '{bcrypt_hash('hunter2')}'\n  carol:"))
        for who, want in (("bob:hunter2", 200), ("alice:s3cret", 401)):
            got = {sname: curl(f"https://127.0.0.1:{srv.port}/-/healthy", ca, "-u", who)[1]
                   for sname, srv in servers.items()}
            if set(got.values()) != {want}:
                failures.append(f"after editing the web config, {who}: {got}, want {want}")
            else:
                print(f"ok  web config edited while serving: {who.split(':')[0]} -> {want} on both")
        with open(web, "w") as f:
            f.write(text)
        # Sanity: the 401 cases really were 401, the authenticated ones 200.
        rc, status, _, _ = curl(f"https://127.0.0.1:{servers['kiln'].port}/api/v1/query?query=1", ca)
        assert status == 401, status
        rc, status, _, _ = curl(f"https://127.0.0.1:{servers['kiln'].port}/api/v1/query?query=1",
                                ca, "-u", "alice:s3cret")
        assert status == 200, status

        # Plain HTTP against the TLS port: Go answers a fixed 400; so must Kiln.
        plain = {}
        for sname, srv in servers.items():
            r = subprocess.run(["curl", "-sS", "--max-time", "10", "-i", "-u", "alice:s3cret",
                                f"http://127.0.0.1:{srv.port}/api/v1/query?query=1"],
                               capture_output=True, text=True)
            plain[sname] = (r.returncode, r.stdout)
        if plain["kiln"] != plain["prometheus"] or "400 Bad Request" not in plain["kiln"][1]:
            failures.append(f"plain HTTP on the TLS port: prometheus {plain['prometheus']}, "
                            f"kiln {plain['kiln']}")
        else:
            print("ok  plain HTTP on the TLS port: same 400 as Prometheus")
        port = servers["kiln"].port
        # A client trusting another CA refuses the server certificate.
        rc, status, _, err = curl(f"https://127.0.0.1:{port}/-/healthy", f"{tmp}/other/ca.crt",
                                  "-u", "alice:s3cret")
        if rc == 0:
            failures.append("curl accepted the server certificate with another CA")
        else:
            print(f"ok  untrusted CA refused by curl (rc {rc})")
    finally:
        for srv in servers.values():
            srv.stop()

    # Client certificates: RequireAndVerifyClientCert against the same CA on both servers.
    mtls = f"{tmp}/web_mtls.yml"
    with open(mtls, "w") as f:
        f.write("tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n"
                "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: pki/ca.crt\n")
    servers = {}
    try:
        own = ["--cert", f"{tmp}/pki/client.crt", "--key", f"{tmp}/pki/client.key"]
        servers = start_pair(args, tmp, prom_cfg, mtls, "2", ca, "x:y", *own)
        for name, extra, want_ok in [("client certificate from the CA", own, True),
                                     ("no client certificate", [], False),
                                     ("client certificate from another CA",
                                      ["--cert", f"{tmp}/other/client.crt",
                                       "--key", f"{tmp}/other/client.key"], False)]:
            got = {}
            for sname, srv in servers.items():
                rc, status, _, _ = curl(f"https://127.0.0.1:{srv.port}/api/v1/query?query=1",
                                        ca, *extra)
                got[sname] = rc == 0 and status == 200
            if got["kiln"] != want_ok or got["prometheus"] != want_ok:
                failures.append(f"mTLS '{name}': want served={want_ok}, got {got}")
            else:
                print(f"ok  mTLS {name}: {'served' if want_ok else 'refused'} by both")
    finally:
        for srv in servers.values():
            srv.stop()

    # Bad web configs stop both servers at start; Kiln names the file and the field.
    bad = {
        "unknown field": ("foo: 1\n", ["foo", "field not found"]),
        "missing key file": ("tls_server_config:\n  cert_file: pki/server.crt\n"
                             "  key_file: pki/nope.key\n", ["key_file", "nope.key"]),
        "key without cert": ("tls_server_config:\n  key_file: pki/server.key\n",
                             ["tls_server_config", "missing cert_file"]),
        "plain-text password": ("basic_auth_users:\n  bob: hunter2\n", ["basic_auth_users.bob"]),
        "header not allowed": ("http_server_config:\n  headers:\n    Server: kiln\n",
                               ["http_server_config.headers.Server"]),
        "bad TLS version": ("tls_server_config:\n  cert_file: pki/server.crt\n"
                            "  key_file: pki/server.key\n  min_version: TLS9\n",
                            ["tls_server_config.min_version", "TLS9"]),
        "mismatched key": ("tls_server_config:\n  cert_file: pki/server.crt\n"
                           "  key_file: other/server.key\n", ["X509KeyPair"]),
    }
    for name, (text, words) in bad.items():
        path = f"{tmp}/bad.yml"
        with open(path, "w") as f:
            f.write(text)
        codes = {}
        for sname, argv in (("prometheus", [PROMETHEUS, "--log.level=warn"]),
                            ("kiln", [args.kiln])):
            r = subprocess.run([*argv, f"--config.file={prom_cfg}",
                                f"--storage.tsdb.path={tmp}/{sname}_bad",
                                "--web.listen-address=127.0.0.1:0",
                                f"--web.config.file={path}"],
                               capture_output=True, text=True, timeout=30)
            codes[sname] = (r.returncode, r.stdout + r.stderr)
        klog = codes["kiln"][1]
        if codes["prometheus"][0] == 0 or codes["kiln"][0] == 0:
            failures.append(f"bad config '{name}': exit codes {codes['prometheus'][0]} / {codes['kiln'][0]}")
        elif path not in klog or not all(w in klog for w in words):
            failures.append(f"bad config '{name}': kiln's message lacks {words} or the file:\n{klog}")
        else:
            line = [ln for ln in klog.splitlines() if "web configuration" in ln]
            print(f"ok  bad config '{name}' refused by both: {line[0] if line else klog.strip()}")

    # `kilntool check web-config` answers as `promtool check web-config` on the same files.
    if os.path.exists(args.kilntool) and os.path.exists(PROMTOOL):
        files = [web, mtls, f"{tmp}/bad.yml"]  # bad.yml holds the last bad config
        for f in files:
            got = {}
            for tname, tool in (("promtool", PROMTOOL), ("kilntool", args.kilntool)):
                r = subprocess.run([tool, "check", "web-config", f], capture_output=True,
                                   text=True, timeout=30)
                verdict = "SUCCESS" if f"{f} SUCCESS" in r.stderr else (
                    "FAILED" if f"{f} FAILED:" in r.stderr else r.stderr)
                got[tname] = (r.returncode, verdict)
            if got["promtool"] != got["kilntool"]:
                failures.append(f"check web-config {f}: {got}")
            else:
                print(f"ok  check web-config {os.path.basename(f)}: {got['kilntool']} as promtool")

    return e2e.report(failures)


if __name__ == "__main__":
    sys.exit(e2e.main(compare_security, "kiln-web-security-",
                      needs=(PROMETHEUS, "/usr/bin/openssl", "/usr/bin/curl")))
