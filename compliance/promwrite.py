"""A minimal remote_write 1.0 client: hand-encoded protobuf, snappy block compression.

Used by the compliance harness and the benchmarks to feed Kiln through its real ingestion
path. Only the fields remote_write 1.0 needs are encoded (WriteRequest.timeseries,
TimeSeries.labels/samples, Label.name/value, Sample.value/timestamp).
"""

import struct
import urllib.error
import urllib.request

import snappy


def _uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field_bytes(num, payload):
    return _uvarint(num << 3 | 2) + _uvarint(len(payload)) + payload


def encode_timeseries(labels, samples):
    """labels: sorted list of (name, value); samples: list of (t_ms, value)."""
    body = bytearray()
    for name, value in labels:
        lbl = _field_bytes(1, name.encode()) + _field_bytes(2, value.encode())
        body += _field_bytes(1, lbl)
    for t, v in samples:
        s = b"\x09" + struct.pack("<d", v) + b"\x10" + _uvarint(t & 0xFFFFFFFFFFFFFFFF)
        body += _field_bytes(2, s)
    return _field_bytes(1, bytes(body))


def encode_write_request(series):
    """series: iterable of (sorted labels list, samples list). Returns the snappy body."""
    raw = b"".join(encode_timeseries(l, s) for l, s in series)
    return snappy.compress(raw)


def post(url, body, timeout=30):
    """Sends one remote_write request; returns (status, response text)."""
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", "application/x-protobuf")
    req.add_header("Content-Encoding", "snappy")
    req.add_header("X-Prometheus-Remote-Write-Version", "0.1.0")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
