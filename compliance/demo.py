"""Deterministic generator of the PromQL compliance suite's demo data.

It produces the metric families the upstream demo service exposes (see
../shared/compliance/README.md), for three instances scraped every 5 s, as a pure function of
(instance, scrape index): the same seed gives the same samples on every run and machine.

Each scrape happens at base + i*interval + jitter, with jitter in 1..999 ms and never 0, so no
sample sits exactly on a query step or range boundary (the one place where Prometheus 2.x's
closed and 3.x's left-open range selectors would differ).
"""

import math
import random

INSTANCES = ["demo.promlabs.com:10000", "demo.promlabs.com:10001", "demo.promlabs.com:10002"]
JOB = "demo"
SCRAPE_INTERVAL_MS = 5000

MIB = 1024 * 1024
BUCKETS = [0.0001 * 1.5**i for i in range(25)]
API_SERIES = [  # (method, path, status, requests/s, median latency s)
    ("GET", "/api/foo", "200", 8.0, 0.004),
    ("GET", "/api/foo", "500", 0.3, 0.02),
    ("POST", "/api/foo", "200", 2.0, 0.012),
    ("GET", "/api/bar", "200", 5.0, 0.03),
    ("GET", "/api/bar", "404", 0.5, 0.001),
    ("POST", "/api/bar", "405", 0.2, 0.0005),
    ("GET", "/api/nonexistent", "404", 1.0, 0.0008),
    ("POST", "/api/nonexistent", "500", 0.1, 0.05),
]


def fmt(v):
    """Formats a float the way both systems parse it back exactly."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def bucket_le(b):
    return fmt(b) if b != float("inf") else "+Inf"


class Instance:
    """The state of one demo instance, advanced one scrape at a time."""

    def __init__(self, index, start_ms):
        self.name = INSTANCES[index]
        self.rng = random.Random(1000 + index)
        self.t_ms = start_ms
        self.cpu = {"user": 0.0, "system": 0.0, "idle": 0.0}
        self.mem = {"used": 1200 * MIB, "cached": 2500 * MIB, "buffers": 165 * MIB}
        self.disk_total = 160e9
        self.disk_usage = 0.4 * self.disk_total + index * 1e9
        self.items_shipped = 0.0
        self.api = [
            {"counts": [0] * len(BUCKETS), "count": 0, "sum": 0.0} for _ in API_SERIES
        ]
        self.batch_last_success = start_ms / 1000.0 - 60
        self.batch_last_run = start_ms / 1000.0 - 60
        self.batch_duration = 10.0
        self.batch_bytes = 0.0

    def advance(self, t_ms):
        """Moves the instance's state forward to time t_ms."""
        dt = (t_ms - self.t_ms) / 1000.0
        self.t_ms = t_ms
        rng = self.rng
        for mode, share in (("user", 0.3), ("system", 0.2), ("idle", 0.5)):
            self.cpu[mode] += share * 4 * dt * (1 + rng.uniform(-0.1, 0.1))
        for k in self.mem:
            self.mem[k] = max(10 * MIB, self.mem[k] + rng.uniform(-2, 2) * MIB)
        self.disk_usage += 0.5e6 * dt * (1 + rng.uniform(-0.2, 0.2))
        if self.disk_usage > 0.9 * self.disk_total:
            self.disk_usage = 0.1 * self.disk_total
        t = t_ms / 1000.0
        self.items_shipped += dt * (5 + 4 * math.sin(2 * math.pi * t / 300.0))
        for i, (_, _, _, rate, median) in enumerate(API_SERIES):
            n = int(rate * dt + rng.random())
            st = self.api[i]
            for _ in range(n):
                lat = rng.lognormvariate(math.log(median), 0.6)
                st["count"] += 1
                st["sum"] += lat
                for b, le in enumerate(BUCKETS):
                    if lat <= le:
                        st["counts"][b] += 1
        # A batch job that runs at the start of every minute and fails a quarter of the time.
        minute_start = math.floor(t / 60.0) * 60.0
        if minute_start > self.batch_last_run:
            self.batch_last_run = minute_start
            self.batch_duration = 5 + rng.random() * 20
            self.batch_bytes = math.floor(rng.uniform(1e6, 5e6))
            if rng.random() >= 0.25:
                self.batch_last_success = minute_start + self.batch_duration

    def samples(self):
        """Yields (metric name, labels dict, value, type, help) for the current state."""
        t = self.t_ms / 1000.0
        yield "demo_num_cpus", {}, 4.0
        for mode, v in self.cpu.items():
            yield "demo_cpu_usage_seconds_total", {"mode": mode}, round(v, 3)
        total = 8 * 1024 * MIB
        used = sum(self.mem.values())
        for k, v in self.mem.items():
            yield "demo_memory_usage_bytes", {"type": k}, math.floor(v)
        yield "demo_memory_usage_bytes", {"type": "free"}, math.floor(total - used)
        yield "demo_disk_usage_bytes", {}, math.floor(self.disk_usage)
        yield "demo_disk_total_bytes", {}, self.disk_total
        for i, (method, path, status, _, _) in enumerate(API_SERIES):
            st = self.api[i]
            lbl = {"method": method, "path": path, "status": status}
            for b, le in enumerate(BUCKETS):
                yield "demo_api_request_duration_seconds_bucket", dict(lbl, le=bucket_le(le)), st["counts"][b]
            yield "demo_api_request_duration_seconds_bucket", dict(lbl, le="+Inf"), st["count"]
            yield "demo_api_request_duration_seconds_sum", lbl, round(st["sum"], 6)
            yield "demo_api_request_duration_seconds_count", lbl, st["count"]
        yield "demo_api_http_requests_in_progress", {}, float(self.rng.randint(0, 5))
        yield "demo_batch_last_success_timestamp_seconds", {}, self.batch_last_success
        yield "demo_batch_last_run_timestamp_seconds", {}, self.batch_last_run
        yield "demo_batch_last_run_duration_seconds", {}, round(self.batch_duration, 3)
        yield "demo_batch_last_run_processed_bytes", {}, self.batch_bytes
        yield "demo_is_holiday", {}, 1.0 if int(t // 300) % 5 == 4 else 0.0
        yield "demo_items_shipped_total", {}, math.floor(self.items_shipped)
        if int(t // 60) % 2 == 0:
            yield "demo_intermittent_metric", {}, 1.0
        # What the scrape itself adds.
        yield "up", {}, 1.0
        yield "scrape_duration_seconds", {}, round(0.002 + self.rng.random() * 0.003, 6)


METADATA = {
    "demo_num_cpus": ("gauge", "The number of CPUs."),
    "demo_cpu_usage_seconds_total": ("counter", "The CPU usage in seconds."),
    "demo_memory_usage_bytes": ("gauge", "The memory usage in bytes."),
    "demo_disk_usage_bytes": ("gauge", "The disk usage in bytes."),
    "demo_disk_total_bytes": ("gauge", "The total disk size in bytes."),
    "demo_api_request_duration_seconds": ("histogram", "A histogram of the API request durations."),
    "demo_api_http_requests_in_progress": ("gauge", "The current number of API requests in progress."),
    "demo_batch_last_success_timestamp_seconds": ("gauge", "The last successful batch run."),
    "demo_batch_last_run_timestamp_seconds": ("gauge", "The last batch run."),
    "demo_batch_last_run_duration_seconds": ("gauge", "The duration of the last batch run."),
    "demo_batch_last_run_processed_bytes": ("gauge", "The bytes processed by the last batch run."),
    "demo_is_holiday": ("gauge", "Whether it is a holiday."),
    "demo_items_shipped_total": ("counter", "The number of items shipped."),
    "demo_intermittent_metric": ("gauge", "A metric that is only present in even minutes."),
    "up": ("gauge", "Whether the target is up."),
    "scrape_duration_seconds": ("gauge", "How long the scrape took."),
}


def scrape_times(start_ms, end_ms, seed=7):
    """Yields the jittered scrape timestamps (ms) in [start_ms, end_ms)."""
    rng = random.Random(seed)
    t = start_ms
    while t < end_ms:
        yield t + rng.randint(1, 999)
        t += SCRAPE_INTERVAL_MS


def generate(start_ms, end_ms):
    """Yields (t_ms, labels dict incl. __name__, value) for every sample, in time order."""
    instances = [Instance(i, start_ms) for i in range(len(INSTANCES))]
    for t in scrape_times(start_ms, end_ms):
        for inst in instances:
            inst.advance(t)
            for name, labels, value in inst.samples():
                full = {"__name__": name, "instance": inst.name, "job": JOB}
                full.update(labels)
                yield t, full, float(value)


def family_of(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in METADATA:
            return name[: -len(suffix)]
    return name


def om_labels(labels):
    parts = []
    for k in sorted(labels):
        if k == "__name__":
            continue
        v = labels[k].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{k}="{v}"')
    return "{" + ",".join(parts) + "}"


def write_openmetrics(path, start_ms, end_ms):
    """Writes the window as one OpenMetrics file, grouped by family as the format requires."""
    by_family = {}
    for t, labels, value in generate(start_ms, end_ms):
        fam = family_of(labels["__name__"])
        by_family.setdefault(fam, []).append(
            f'{labels["__name__"]}{om_labels(labels)} {fmt(value)} {t // 1000}.{t % 1000:03d}\n'
        )
    count = 0
    with open(path, "w") as f:
        for fam, lines in by_family.items():
            typ, help_ = METADATA.get(fam, ("unknown", ""))
            # OpenMetrics names a counter family without its _total suffix.
            om_fam = fam[: -len("_total")] if typ == "counter" and fam.endswith("_total") else fam
            f.write(f"# HELP {om_fam} {help_}\n# TYPE {om_fam} {typ}\n")
            f.writelines(lines)
            count += len(lines)
        f.write("# EOF\n")
    return count
