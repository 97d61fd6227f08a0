#!/usr/bin/python3
"""Regenerates testdata/prometheus-2.42-wal: a WAL written by the real Prometheus.

Starts /usr/bin/prometheus with the remote-write receiver on a temp dir, pushes three
requests with fixed timestamps (an empty head accepts any time), kills it with SIGKILL,
copies its wal/ segment here, and writes expected.txt: one line per sample,
"<labels as Prometheus prints them>\t<timestamp ms>\t<value bits as 16 hex digits>".
Requires Prometheus 2.42 at /usr/bin/prometheus and python3-snappy (run with /usr/bin/python3).
"""
import os, shutil, signal, socket, struct, subprocess, tempfile, time, urllib.request
import snappy

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "prometheus-2.42-wal")
T0 = 1700000000000
STALE_NAN = 0x7FF0000000000002


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num, wire, payload):
    return uvarint(num << 3 | wire) + payload


def ld(num, data):
    return field(num, 2, uvarint(len(data)) + data)


def series(req):
    """Yields (labels dict, [(t, value bits)]) for request number `req`."""
    for i in range(40):
        labels = {"__name__": "golden_metric_%d" % (i % 4), "instance": "host-%03d:9100" % i,
                  "job": "golden"}
        if i % 5 == 0:
            labels["quote"] = 'a "quoted" \\ value\n'
        samples = []
        for j in range(3):
            bits = struct.unpack("<Q", struct.pack("<d", i * 1.25 - j + req * 100))[0]
            if i == 7 and j == 2:
                bits = STALE_NAN
            samples.append((T0 + req * 15000 + j * 1000, bits))
        yield labels, samples


def write_request(req):
    body = b""
    for labels, samples in series(req):
        ts = b""
        for name in sorted(labels):
            ts += ld(1, ld(1, name.encode()) + ld(2, labels[name].encode()))
        for t, bits in samples:
            ts += ld(2, field(1, 1, struct.pack("<Q", bits)) + field(2, 0, uvarint(t)))
        body += ld(1, ts)
    return snappy.compress(body)


def go_quote(s):
    out = '"'
    for c in s:
        out += {'"': '\\"', "\\": "\\\\", "\n": "\\n"}.get(c, c)
    return out + '"'


def main():
    tmp = tempfile.mkdtemp()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = os.path.join(tmp, "p.yml")
    open(cfg, "w").write("global:\n  scrape_interval: 1h\n")
    proc = subprocess.Popen(["/usr/bin/prometheus", "--config.file=" + cfg,
                             "--storage.tsdb.path=" + tmp + "/data",
                             "--web.listen-address=127.0.0.1:%d" % port,
                             "--web.enable-remote-write-receiver"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/-/ready")
            break
        except Exception:
            time.sleep(0.1)
    for req in range(3):
        r = urllib.request.Request(base + "/api/v1/write", data=write_request(req), headers={
            "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0"})
        assert urllib.request.urlopen(r).status == 204
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for name in os.listdir(tmp + "/data/wal"):
        if name.isdigit():
            shutil.copy(os.path.join(tmp, "data/wal", name), OUT)
    lines = []
    for req in range(3):
        for labels, samples in series(req):
            text = "{" + ", ".join("%s=%s" % (k, go_quote(labels[k])) for k in sorted(labels)) + "}"
            for t, bits in samples:
                lines.append("%s\t%d\t%016x" % (text, t, bits))
    open(os.path.join(HERE, "prometheus-2.42-wal.expected"), "w").write("\n".join(sorted(lines)) + "\n")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
