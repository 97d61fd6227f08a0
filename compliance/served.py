"""What one server stored of one demo instance, scrape by scrape, next to the pages the
exporter served it (exporter.Scrape), for the live check (live.py).

A server stamps a scrape before it sends the request, and the exporter logs the request when
it answers it, so each stored scrape (one sample of `up` per scrape, failed or not) is paired
with the requests logged between its stamp and the next one. What the server should then
hold follows from the pages alone, whenever the scrapes happened:

- at each stamp, every sample of the page with the page's value, and the report series (up,
  scrape_samples_scraped and scrape_samples_post_metric_relabeling count the page; a failed
  scrape stores 0 and only the report series); samples carrying their own timestamp are
  stored at that timestamp instead;
- at any instant t, an instant selector shows exactly what the last scrape stamped at or
  before t stored: a series that the last scrape lacked got a stale marker at that scrape's
  stamp (Prometheus's staleness), except a series with explicit timestamps, which gets none
  and stays visible for the lookback delta after its latest sample;
- a scrape loop scrapes once per interval on a fixed grid and skips a slot only while a
  scrape is still running (Prometheus's ticker; Kiln's loop does the same).

None of this needs a slack window around the harness's switches: a scrape that starts late
is paired with the page it got, and judged by it.
"""

import bisect
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402

# Prometheus moves a scrape's timestamp onto its predecessor's plus the interval when within
# 2 ms (--scrape.adjust-timestamps), so a stamp can follow its request by that much; this is
# a bound of the server's arithmetic, not of the machine's speed.
STAMP_EPS_MS = 10
LOOKBACK_MS = 5 * 60 * 1000
REPORT_NAMES = ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                "scrape_samples_post_metric_relabeling", "scrape_series_added")
# Report series whose value is the server's own measurement or bookkeeping, not a function
# of the page: only their presence is checked against the pages.
OWN_VALUE_NAMES = {"scrape_duration_seconds", "scrape_series_added"}
# A scrape that failed on a page the exporter served is a timeout, which the server's own
# scrape_duration_seconds shows: at least this share of scrape_timeout.
TIMEOUT_SHARE = 0.9
MAX_REPORTED = 4  # problems printed per check; the count says how many there were


def series_key(labels):
    """A series' identity: its labels (with __name__) as sorted (name, value) pairs."""
    return tuple(sorted(labels.items()))


def name_of(key):
    return dict(key).get("__name__", "")


def same_value(a, b):
    """Exact float equality (the servers store the page's float), NaN equal to NaN."""
    x, y = float(a), float(b)
    return x == y or (math.isnan(x) and math.isnan(y))


def raw_samples(matrix):
    """{series key: [(t ms, value string)]} of a range selector's matrix (raw samples; stale
    markers are not returned)."""
    return {series_key(s["metric"]): [(round(float(t) * 1000), v) for t, v in s["values"]]
            for s in matrix}


class History:
    """One server's scrapes of one instance (`raw`: raw_samples() of
    {job="demo", instance=...} over its whole run) and what it was served (`entries`: the
    exporter's Scrapes for that server and instance, in order). `problems` collects what
    contradicts the pages, by check."""

    def __init__(self, server, index, raw, entries, timeout_s):
        self.server = server
        self.index = index
        self.instance = demo.INSTANCES[index]
        self._labels = {"job": demo.JOB, "instance": self.instance}
        self._timeout_s = timeout_s
        self.raw = raw
        self.stored = {}  # (series key, t ms) -> value string
        self._by_stamp = {}  # t ms -> {series key: value string}
        for key, points in raw.items():
            for t, v in points:
                self.stored[(key, t)] = v
                self._by_stamp.setdefault(t, {})[key] = v
        up = raw.get(self._key("up"), [])
        self.stamps = [t for t, _ in up]
        self.ups = [float(v) for _, v in up]
        dur = dict(raw.get(self._key("scrape_duration_seconds"), []))
        self.durations = [float(dur[t]) if t in dur else math.nan for t in self.stamps]
        self.problems = {"pairing": [], "contents": []}
        self.entries = self._pair(entries)
        self.explicit = {}  # series key -> sorted [(t ms, value)] of explicitly stamped samples
        self.expected = [self._expect(k) for k in range(len(self.stamps))]
        for points in self.explicit.values():
            points.sort()
        self._check_contents()

    def _key(self, name, labels=()):
        return series_key(dict(labels, __name__=name, **self._labels))

    # --- pairing ----------------------------------------------------------------------------

    def _timed_out(self, k):
        return self.durations[k] >= TIMEOUT_SHARE * self._timeout_s

    def _pair(self, entries):
        """The Scrape each stored scrape got (None when it got none). A request logged
        between two stamps belongs to the earlier one; a request for a scrape that timed out
        may be logged after the next stamp. The last stored scrape takes the first request
        after its stamp: later ones belong to scrapes not stored yet."""
        pairs = [None] * len(self.stamps)
        times = [e.time * 1000 for e in entries]
        pos = bisect.bisect_left(times, self.stamps[0] - STAMP_EPS_MS) if self.stamps else 0
        if pos:
            self.problems["pairing"].append(
                f"{pos} request(s) before its first stored scrape at {self.stamps[0]}")
        late = 0  # timed-out scrapes whose request is not accounted for yet
        for k, stamp in enumerate(self.stamps):
            last = k + 1 == len(self.stamps)
            end = len(entries) if last else bisect.bisect_left(
                times, self.stamps[k + 1] - STAMP_EPS_MS)
            cands = entries[pos:end]
            pos = end
            if last:
                cands = cands[:1]
            if self.ups[k] == 0 and not (cands and cands[0].status == 503):
                if not self._timed_out(k):
                    self.problems["pairing"].append(
                        f"scrape at {stamp} stored up 0 after {self.durations[k]:.3f}s, but "
                        f"the exporter served it {[e.status for e in cands] or 'nothing'}")
                elif not cands:
                    late += 1
                if not cands:
                    continue
            if not cands:
                self.problems["pairing"].append(
                    f"scrape at {stamp} stored up {self.ups[k]:g} but the exporter served "
                    "it no page")
                continue
            if self.ups[k] == 1 and cands[-1].status != 200:
                self.problems["pairing"].append(
                    f"scrape at {stamp} stored up 1 for a page served with {cands[-1].status}")
            if len(cands) > 1:
                excused = min(late, len(cands) - 1)
                late -= excused
                if len(cands) - 1 > excused:
                    self.problems["pairing"].append(
                        f"{len(cands)} requests between the stamps {stamp} and "
                        f"{self.stamps[k + 1]}, one stored scrape")
            # The server's own request is its last one before its next scrape.
            pairs[k] = cands[-1]
        return pairs

    # --- contents ---------------------------------------------------------------------------

    def _expect(self, k):
        """{series key: value, or None where the server's own value stands} that the scrape
        stamped k should have stored at its stamp; explicitly stamped samples go to
        self.explicit."""
        entry, up = self.entries[k], self.ups[k]
        stamp = self.stamps[k]
        out = {self._key(n): None for n in OWN_VALUE_NAMES}
        if up == 0:
            out.update({self._key("up"): 0.0, self._key("scrape_samples_scraped"): 0.0,
                        self._key("scrape_samples_post_metric_relabeling"): 0.0,
                        self._key("scrape_series_added"): 0.0})
            return out
        if entry is None or entry.status != 200:
            # Nothing to predict from (reported by _pair): what it stored stands.
            return dict.fromkeys(self._by_stamp.get(stamp, {}))
        samples = entry.samples()
        out.update({self._key("up"): 1.0,
                    self._key("scrape_samples_scraped"): float(len(samples)),
                    self._key("scrape_samples_post_metric_relabeling"): float(len(samples))})
        for name, labels, value, timestamp_ms in samples:
            key = self._key(name, labels)
            if timestamp_ms is None:
                out[key] = value
            else:
                points = self.explicit.setdefault(key, [])
                if (timestamp_ms, value) not in points:
                    points.append((timestamp_ms, value))
        return out

    def _check_contents(self):
        """Every sample the pages call for is stored, with the page's value, and nothing
        else (up to the last stored scrape)."""
        want = {}
        for stamp, expected in zip(self.stamps, self.expected):
            for key, value in expected.items():
                want[(key, stamp)] = value
        for key, points in self.explicit.items():
            for t, value in points:
                want[(key, t)] = value
        last = self.stamps[-1] if self.stamps else -1
        bad = self.problems["contents"]
        for (key, t), value in sorted(want.items()):
            got = self.stored.get((key, t))
            if got is None:
                bad.append(f"{_fmt_key(key)} @{t}: missing, served {value}")
            elif value is not None and not same_value(got, value):
                bad.append(f"{_fmt_key(key)} @{t}: stored {got}, served {value}")
        for (key, t), got in sorted(self.stored.items()):
            if (key, t) not in want and t <= last:
                bad.append(f"{_fmt_key(key)} @{t}: stored {got}, never served")

    # --- what queries should show -----------------------------------------------------------

    def view_at(self, t_ms):
        """{series key: value} an instant selector of this instance shows at t_ms."""
        out = {}
        k = bisect.bisect_right(self.stamps, t_ms) - 1
        if k >= 0:
            stamp = self.stamps[k]
            for key, value in self.expected[k].items():
                if value is None:
                    value = self.stored.get((key, stamp))
                if value is not None:
                    out[key] = float(value)
        for key, points in self.explicit.items():
            i = bisect.bisect_right(points, (t_ms, math.inf)) - 1
            if i >= 0 and points[i][0] > t_ms - LOOKBACK_MS:
                out[key] = points[i][1]
        return out

    def samples_at(self, stamp):
        """{series key: value string} stored at a stamp, but for the server's own
        measurements and the explicitly stamped series."""
        return {k: v for k, v in self._by_stamp.get(stamp, {}).items()
                if name_of(k) not in OWN_VALUE_NAMES and k not in self.explicit}

    def transitions(self):
        """Stamps at which the set of series shown changes: there a stale marker (or a new
        series) must sit exactly, neither later nor earlier."""
        return [self.stamps[k] for k in range(1, len(self.stamps))
                if self.expected[k].keys() != self.expected[k - 1].keys()]

    def outcomes(self, since_ms=-math.inf, until_ms=math.inf):
        """The runs of (up, intermittent metric served) of the stored scrapes in a window."""
        runs = []
        for stamp, up, entry in zip(self.stamps, self.ups, self.entries):
            if since_ms <= stamp <= until_ms:
                state = (up, bool(entry and entry.status == 200 and entry.intermittent))
                if not runs or runs[-1] != state:
                    runs.append(state)
        return runs

    # --- cadence ----------------------------------------------------------------------------

    def cadence_problems(self, interval_s):
        """One scrape per slot of the loop's grid, from its first stored scrape to its last; an
        empty slot only while the scrape before it ran into it (a slow scrape: the loop takes
        the next free slot) or when the loop woke up late (see _cadence_on). The grid is the scrapes' own: a scrape starts at or after its
        slot, so each stamp's offset (modulo the interval) is a candidate phase, and the one
        that explains the stamps best (fewest problems, then least lateness) is judged."""
        if len(self.stamps) < 2:
            return [f"{len(self.stamps)} scrape(s) stored"]
        iv = interval_s * 1000
        offsets = sorted({s % iv for s in self.stamps})
        best = None
        for offset in offsets:
            phase = offset - STAMP_EPS_MS
            problems = self._cadence_on(phase, iv)
            lateness = sum((s - phase) % iv for s in self.stamps)
            if best is None or (len(problems), lateness) < best[0]:
                best = ((len(problems), lateness), problems)
        return best[1]

    def _cadence_on(self, phase, iv):
        slots = {}
        for k, s in enumerate(self.stamps):
            slots.setdefault(math.floor((s - phase) / iv), []).append(k)
        # How late into its slot the loop usually starts a scrape, on this grid.
        usual = sorted((s - phase) % iv for s in self.stamps)[len(self.stamps) // 2]
        out = []
        prev = None
        for slot in range(min(slots), max(slots) + 1):
            ks = slots.get(slot, [])
            if len(ks) > 1:
                out.append(f"{len(ks)} scrapes within one interval, at "
                           f"{[self.stamps[k] for k in ks]}")
            if ks:
                prev = ks[-1]
                continue
            due = phase + slot * iv + usual  # when the loop would usually have scraped
            ran_until = self.stamps[prev] + 1000 * self.durations[prev]
            woke_late = (self.stamps[prev + 1] - phase) % iv  # the scrape after the gap
            # A scrape ending late enough for its wrap-up to reach the slot (or running into
            # it) explains the skip, and so does a loop that woke up late (its next scrape
            # started a tenth of an interval later into its slot than usual: a machine too
            # busy to run it on time). A loop idle for over half an interval that then
            # scrapes on time does not. Both count from the loop's usual start, so no choice
            # of grid can make every scrape look late or every slot look busy.
            if not (ran_until >= due - iv / 2 or woke_late >= usual + iv / 10):
                out.append(f"skipped the slot due at {due:.0f}: its previous scrape "
                           f"(at {self.stamps[prev]}) ended {(due - ran_until) / 1000:.1f}s "
                           "before it, and the next one started on time")
        return out


def _fmt_key(key):
    d = dict(key)
    name = d.pop("__name__", "")
    d.pop("job", None)
    d.pop("instance", None)
    return name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}" if d else "")


def view(histories, t_ms):
    """{series key: value} of {job="demo"} at t_ms, from one server's histories."""
    out = {}
    for h in histories:
        out.update(h.view_at(t_ms))
    return out


def select_name(name):
    return lambda vec: {k: v for k, v in vec.items() if name_of(k) == name}


def count_by_instance(vec):
    out = {}
    for k in vec:
        key = (("instance", dict(k)["instance"]),)
        out[key] = out.get(key, 0.0) + 1
    return out


def step_diff(want, got):
    """A description of how a query's expected answer differs from the server's at one
    step ({labels: value} both), or None."""
    if want.keys() != got.keys():
        extra = _fmt_keys(sorted(k for k in got if k not in want))
        missing = _fmt_keys(sorted(k for k in want if k not in got))
        return f"shows {extra or 'nothing extra'}, lacks {missing or 'nothing'}"
    for k in sorted(want):
        if not same_value(want[k], got[k]):
            return f"{_fmt_vec_key(k)}: {got[k]}, served {want[k]}"
    return None


def _fmt_vec_key(key):
    d = dict(key)
    name = d.pop("__name__", "")
    d.pop("job", None)
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}"


def _fmt_keys(keys, limit=3):
    out = ", ".join(_fmt_vec_key(k) for k in keys[:limit])
    return out + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def report(label, problems, limit=MAX_REPORTED):
    """Prints one PASS/FAIL line (and the first problems) and returns (passed, failed)."""
    if not problems:
        print(f"PASS live {label}")
        return 1, 0
    print(f"FAIL live {label}: {len(problems)} problem(s)")
    for p in problems[:limit]:
        print(f"  {p}")
    return 0, 1
