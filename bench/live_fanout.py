"""Benchmark: what the web server process pays for N open panels.

The panel runs as deployed, with the simulator's generated traffic (a busy call centre: a new call
every 2 s on average, up to 40 at once). Steps:

1. one poll stores a snapshot, then the poller stops: from here on nothing is broadcast ("idle");
2. one client connects (the server has loaded everything a socket needs), the web server's memory
   is read; then N clients connect, 100 at a time, and it is read again: the difference divided
   by N is the memory of one idle connection;
3. the web server's CPU is measured over a window with the N sockets idle;
4. the poller starts at 1 s: one diff per second to every socket; CPU of every process over the
   same window, memory after it, and the size of each diff against the size of the snapshot a
   naive design would send instead (the full state every time).

The clients' silence watchdog waits while the poller is stopped: a page would ask for a snapshot
after three silent intervals, and the idle figures would measure those answers instead.

Prints one JSON line. Usage: python -m bench.live_fanout sqlite|postgres [--clients 1000]
[--seconds 30]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from bench.live_stack import CpuMeter, emit, live_bench
from bench.soak_setup import rss_mb


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0, help="each measuring window")
    parser.add_argument("--fleets", type=int)
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with live_bench(
        args.backend,
        sessions=args.clients,
        fleet_processes=args.fleets,
        traffic=True,
        keep=args.keep,
    ) as bench:
        stack, fleets = bench.stack, bench.fleets
        stack.start_poller(1.0)
        stack.stop_poller()
        fleets.set_poll_interval(None)
        web = stack.pids()["web"]

        fleets.grow(1)
        time.sleep(2)
        rss_one = rss_mb(web)
        ramp = fleets.grow(args.clients, batch=100)
        time.sleep(5)  # let the last handshakes' garbage go
        gc.collect()
        rss_idle = rss_mb(web)
        meter = CpuMeter({"web": [web]})
        time.sleep(args.seconds)
        idle_cpu = meter.percent()["web"]

        stack.start_poller(1.0)
        fleets.set_poll_interval(1.0)
        # The first polls carry everything that changed while idle; measure from the next ones.
        time.sleep(3)
        pids = stack.pids()
        fleets.reset()
        meter = CpuMeter(
            {
                "web": [web],
                "worker": [pids["worker"]],
                "beat": [pids["beat"]],
                "fleet": fleets.pids(),
            }
        )
        snapshot_bytes, calls = [], []
        seq_before = stack.seq()
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            text = stack.snapshot_text() or ""
            snapshot_bytes.append(len(text.encode()))
            calls.append(text.count('"channel":'))
            time.sleep(1)
        polls = stack.seq() - seq_before
        busy_cpu = meter.percent()
        rss_busy = rss_mb(web)
        _, counts = fleets.report([])
        status = fleets.status()

    diffs = counts.get("diff_messages", 0)
    diff_bytes = counts.get("diff_bytes", 0) / diffs if diffs else None
    snapshot_mean = sum(snapshot_bytes) / len(snapshot_bytes) if snapshot_bytes else None
    per_connection_kb = (rss_idle - rss_one) * 1024 / max(1, args.clients - 1)
    emit(
        {
            "benchmark": "live_fanout",
            "clients": args.clients,
            "open": status["open"],
            "ramp_batches_s": ramp["batches_s"],
            "web_rss_one_socket_mb": rss_one,
            "web_rss_idle_mb": rss_idle,
            "web_rss_busy_mb": rss_busy,
            "kb_per_idle_connection": round(per_connection_kb, 1),
            "web_cpu_idle_pct": idle_cpu,
            "cpu_busy_pct": busy_cpu,
            "polls": polls,
            "diffs_per_client_per_s": round(diffs / max(1, status["open"]) / args.seconds, 2),
            "web_cpu_ms_per_diff": (
                round(busy_cpu["web"] * 10 * args.seconds / polls, 1) if polls else None
            ),
            "calls_on_line_mean": round(sum(calls) / len(calls), 1) if calls else None,
            "diff_bytes_mean": None if diff_bytes is None else round(diff_bytes),
            "snapshot_bytes_mean": None if snapshot_mean is None else round(snapshot_mean),
            "snapshot_to_diff_ratio": (
                round(snapshot_mean / diff_bytes, 1) if diff_bytes and snapshot_mean else None
            ),
            "resyncs": counts.get("resyncs", 0),
            "watchdog_resyncs": counts.get("watchdog_resyncs", 0),
            "seconds": args.seconds,
        }
    )


if __name__ == "__main__":
    main(sys.argv[1:])
