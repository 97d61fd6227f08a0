#!/usr/bin/python3
"""Scrape fixture for the scrape workload: N exporter targets, one loopback port each.

Every target serves M series in the text format 0.0.4 (100-series blocks of metric families
with HELP and TYPE: a third counters, a third gauges with two decimals, a third constants),
the way a node_exporter-sized exporter looks. Values move every second: a scrape at second s
gets body s mod --variants, pre-rendered at start so the fixture costs little CPU next to
the servers it feeds. Connections are kept alive, as Prometheus's scrapers expect.

Prints one JSON line {"ports": [...]} on stdout once every port listens, then serves until
SIGTERM. Usage: bench/scrape_fixture.py --targets 200 --series 1000
"""

import argparse
import asyncio
import json
import signal
import sys
import time


def render(series, variant):
    families = max(1, series // 10)
    lines = []
    n = 0
    for f in range(families):
        kind = ("counter", "gauge", "const")[f % 3]
        name = f"fixture_metric_{f}" + ("_total" if kind == "counter" else "")
        lines.append(f"# HELP {name} Fixture metric {f} ({kind}).")
        lines.append(f"# TYPE {name} {'counter' if kind == 'counter' else 'gauge'}")
        per = series // families + (1 if f < series % families else 0)
        for i in range(per):
            if kind == "counter":
                v = str((n % 13 + 1) * 10 * variant + n)
            elif kind == "gauge":
                v = f"{50 + ((n * 7919 + variant * 104729) % 10000) / 100:.2f}"
            else:
                v = str(n % 7)
            lines.append(f'{name}{{path="/api/v{i % 3}/item",code="{200 + (i % 5)}",shard="{i}"}} {v}')
            n += 1
    return ("\n".join(lines) + "\n").encode()


async def serve(args):
    bodies = []
    for v in range(args.variants):
        body = render(args.series, v)
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        bodies.append(head + body)

    async def handle(reader, writer):
        try:
            while True:
                # Request line and headers up to the blank line; scrapes carry no body.
                await reader.readuntil(b"\r\n\r\n")
                writer.write(bodies[int(time.time()) % len(bodies)])
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0) for _ in range(args.targets)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps({"ports": ports, "body_bytes": len(bodies[0])}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for s in servers:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--variants", type=int, default=120)
    args = ap.parse_args()
    if args.targets < 1 or args.series < 1 or args.variants < 1:
        print("--targets, --series and --variants must be positive", file=sys.stderr)
        return 2
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
