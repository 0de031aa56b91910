"""Benchmark: `activecalls` requests the PBX receives per minute with 1, 100 and 1,000 open panels.

The panel runs as deployed with the simulator's generated traffic and polls every `--interval`
seconds; for each panel count the simulator counts the requests it answers over a window. The
naive design of the provider's sample code, one request per browser per refresh, would make
panels × 60 / interval requests a minute at the same refresh rate.

Prints one JSON line per panel count. Usage: python -m bench.live_pbx_load sqlite|postgres
[--panels 1,100,1000] [--seconds 60] [--interval 1]
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.live_stack import emit, live_bench


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--panels", default="1,100,1000")
    parser.add_argument("--seconds", type=float, default=60.0, help="window per panel count")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.panels = sorted(int(n) for n in args.panels.split(","))
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with live_bench(args.backend, sessions=max(args.panels), traffic=True, keep=args.keep) as bench:
        bench.stack.start_poller(args.interval)
        bench.fleets.set_poll_interval(args.interval)
        for panels in args.panels:
            bench.fleets.grow(panels, batch=100)
            time.sleep(2 * args.interval)
            start = time.monotonic()
            time.sleep(args.seconds)
            end = time.monotonic()
            requests = bench.sim.activecalls_between(start, end)
            expected = args.seconds / args.interval
            per_minute = requests * 60 / (end - start)
            naive = panels * 60 / args.interval
            emit(
                {
                    "benchmark": "live_pbx_load",
                    "panels": panels,
                    "open": bench.fleets.status()["open"],
                    "interval_s": args.interval,
                    "window_s": round(end - start, 1),
                    "requests": requests,
                    "requests_expected": round(expected),
                    "requests_per_min": round(per_minute, 1),
                    # One per interval, give or take the one poll a window's edge can cut.
                    "one_per_interval": abs(requests - expected) <= 1,
                    "naive_requests_per_min": round(naive),
                    "naive_ratio": round(naive / per_minute, 1) if per_minute else None,
                }
            )


if __name__ == "__main__":
    main(sys.argv[1:])
