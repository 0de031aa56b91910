"""Benchmark: screen-pop latency, from the moment the simulator starts a call to the moment each
connected websocket client receives it, with 10, 100 and 1,000 clients at poll intervals of 1 and
2 s, with the PBX load of each run; then the reconnect storms.

The panel runs as deployed (web server, Celery worker and beat, Redis, the benchmark database);
the simulator runs in this process, so the start of a call and the moment the PBX answered the
`activecalls` request that first contained it are known exactly, on the clock the clients use.
Calls start at random moments (gaps of 0.3–1.2 intervals, so every phase of the poll is hit),
ring an extension for three intervals and end; 20 other calls are on the line throughout.

Prints one JSON line per (clients, interval) and one per storm:

- `p50/p95/p99_ms`: call start → a client received it, over every (call, client) pair;
- `overhead_*_ms`: our own overhead, the PBX's answer that first contained the call → the *last*
  client received it (parsing, diff, matching, Redis, channel layer, fan-out, the client);
- `poll_wait_p50_ms`: call start → the PBX's answer (the interval's share: half of it on average);
- `cpu_pct`: CPU of each process over the run, in % of one core (`fleet` = the load generator);
- `live_storm` (`kind` "restart"): the web server is stopped (SIGTERM) and started again; the
  clients come back as browsers do (jittered backoff); `kind` "herd": every socket is cut at once
  and every client reconnects at the same instant.

Usage: python -m bench.live_latency sqlite|postgres [--clients 10,100,1000] [--intervals 1,2]
[--calls 40] [--fleets N] [--no-storm]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import deque

from bench.live_stack import EXTENSIONS, CpuMeter, emit, live_bench, ms, percentile

BACKGROUND_CALLS = 20
KNOWN_CALLER_SHARE = 0.7  # the rest are callers who are not customers (yet)
RING_INTERVALS = 3


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", default="10,100,1000")
    parser.add_argument("--intervals", default="1,2")
    parser.add_argument("--calls", type=int, default=40, help="test calls per configuration")
    parser.add_argument("--fleets", type=int, help="client processes (default: one per 500)")
    parser.add_argument("--no-storm", dest="storm", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    args.clients = sorted(int(n) for n in args.clients.split(","))
    args.intervals = [float(n) for n in args.intervals.split(",")]
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with live_bench(
        args.backend,
        sessions=max(args.clients),
        fleet_processes=args.fleets,
        keep=args.keep,
    ) as bench:
        rng = random.Random(2026)
        bench.add_background_calls(BACKGROUND_CALLS, rng)
        stack, fleets = bench.stack, bench.fleets
        common = {"fleets": len(fleets.fleets)}
        for step, clients in enumerate(args.clients):
            ramp = fleets.grow(clients, batch=100)
            if ramp["open"] < clients:
                raise RuntimeError(f"only {ramp['open']} of {clients} clients connected")
            # Alternate the order of intervals so the poller restarts as seldom as possible.
            intervals = args.intervals if step % 2 == 0 else args.intervals[::-1]
            for interval in intervals:
                if stack.interval != interval:
                    stack.start_poller(interval)
                    fleets.set_poll_interval(interval)
                result = measure(bench.sim, stack, fleets, interval, args.calls, rng, bench.pool)
                emit(
                    {
                        "benchmark": "live_latency",
                        **common,
                        "clients": clients,
                        "interval_s": interval,
                        "ramp_batches_s": ramp["batches_s"],
                        "ramp_failures": ramp["failures"],
                        **result,
                    }
                )
        if args.storm:
            emit({"benchmark": "live_storm", **common, **restart_storm(stack, fleets)})
            emit({"benchmark": "live_storm", **common, **herd(stack, fleets)})


def measure(sim, stack, fleets, interval, calls, rng, pool) -> dict:
    """Start `calls` calls at random moments and time their arrival at every client."""
    fleets.reset()
    clients = fleets.size
    pids = stack.pids()
    meter = CpuMeter(
        {
            "web": [pids["web"]],
            "worker": [pids["worker"]],
            "beat": [pids["beat"]],
            "fleet": fleets.pids(),
        }
    )
    begin = time.monotonic()
    started: dict[str, float] = {}
    ringing: deque[tuple[str, float]] = deque()
    for _ in range(calls):
        time.sleep(rng.uniform(0.3, 1.2) * interval)
        while ringing and ringing[0][1] < time.monotonic() - RING_INTERVALS * interval:
            sim.end_call(ringing.popleft()[0])
        caller = (
            rng.choice(pool)
            if rng.random() < KNOWN_CALLER_SHARE
            else f"90555{rng.randrange(10**7):07d}"
        )
        at = time.monotonic()
        channel = sim.add_call(caller, rng.choice(EXTENSIONS), queue=rng.choice(("630", None)))
        started[channel] = at
        ringing.append((channel, at))
    complete = fleets.wait_receipts(started, timeout=3 * interval + 15)
    end = time.monotonic()
    cpu = meter.percent()
    for channel, _ in ringing:
        sim.end_call(channel)
    receipts, counts = fleets.report(started)

    latencies, last, overhead, first_overhead, poll_wait = [], [], [], [], []
    missed = 0
    for channel, at in started.items():
        times = receipts.get(channel, [])
        missed += clients - len(times)
        latencies.extend(t - at for t in times)
        answered = sim.answered_at(channel, at)
        if answered is not None:
            poll_wait.append(answered - at)
        if times:
            last.append(max(times) - at)
            if answered is not None:
                overhead.append(max(times) - answered)
                first_overhead.append(min(times) - answered)
    overhead_p50 = percentile(overhead, 0.5)
    minutes = (end - begin) / 60
    return {
        "calls": calls,
        "samples": len(latencies),
        "missed": missed,
        "complete": complete,
        "p50_ms": ms(percentile(latencies, 0.5)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "max_ms": ms(max(latencies, default=None)),
        "last_client_p95_ms": ms(percentile(last, 0.95)),
        "poll_wait_p50_ms": ms(percentile(poll_wait, 0.5)),
        "overhead_p50_ms": ms(overhead_p50),
        "overhead_p95_ms": ms(percentile(overhead, 0.95)),
        "overhead_p99_ms": ms(percentile(overhead, 0.99)),
        "first_client_overhead_p50_ms": ms(percentile(first_overhead, 0.5)),
        "overhead_share_of_interval": (
            None if overhead_p50 is None else round(overhead_p50 / interval, 3)
        ),
        "pbx_requests_per_min": round(sim.activecalls_between(begin, end) / minutes, 1),
        "polls_per_min_expected": round(60 / interval, 1),
        "cpu_pct": cpu,
        "diff_messages": counts.get("diff_messages", 0),
        "resyncs": counts.get("resyncs", 0),
        "watchdog_resyncs": counts.get("watchdog_resyncs", 0),
        "seconds": round(end - begin, 1),
    }


def panels_streaming(bench, clients: int, interval: float, rng, background: int) -> None:
    """`background` calls on the line, the poller at `interval`, and `clients` panels open: where
    a comparison of push latency with and without some extra load starts."""
    bench.add_background_calls(background, rng)
    bench.stack.start_poller(interval)
    bench.fleets.set_poll_interval(interval)
    ramp = bench.fleets.grow(clients, batch=100)
    if ramp["open"] < clients:
        raise RuntimeError(f"only {ramp['open']} of {clients} clients connected")


def latency_change(baseline: dict, loaded: dict) -> dict:
    """The push latency of two `measure` runs, without and with an extra load, side by side."""
    change = (
        None
        if loaded["overhead_p95_ms"] is None or baseline["overhead_p95_ms"] is None
        else round(loaded["overhead_p95_ms"] - baseline["overhead_p95_ms"], 1)
    )
    return {
        "push_p95_baseline_ms": baseline["p95_ms"],
        "push_p95_ms": loaded["p95_ms"],
        "overhead_p95_baseline_ms": baseline["overhead_p95_ms"],
        "overhead_p95_ms": loaded["overhead_p95_ms"],
        "overhead_p95_change_ms": change,
        "missed_pushes": baseline["missed"] + loaded["missed"],
        "cpu_pct": loaded["cpu_pct"],
    }


def restart_storm(stack, fleets) -> dict:
    """Stop the web server and start it again; every client comes back as a browser does."""
    fleets.reset()
    clients = fleets.size
    stopped_at = time.monotonic()
    stack.web.stop()
    down_s = time.monotonic() - stopped_at
    up_at = stack.start_web()
    meter = CpuMeter({"web": [stack.pids()["web"]], "fleet": fleets.pids()})
    back = fleets.wait_back(since=stopped_at, up=up_at, timeout=120)
    return {
        "kind": "restart",
        "clients": clients,
        "stop_s": round(down_s, 2),
        "restart_s": round(up_at - stopped_at, 2),
        "back": back["back"],
        "all_back_after_up_s": _after(back["last_back_at"], up_at),
        "all_back_after_stop_s": _after(back["last_back_at"], stopped_at),
        "failed_attempts_while_down": back["failed_before_up"],
        "failed_attempts_after_up": back["failed_after_up"],
        "not_back": back["total"] - back["back"],
        "failure_kinds": back["failure_kinds"],
        "cpu_pct": meter.percent(),
    }


def herd(stack, fleets) -> dict:
    """Cut every socket at once; every client reconnects at the same instant."""
    fleets.reset()
    meter = CpuMeter({"web": [stack.pids()["web"]], "fleet": fleets.pids()})
    cut_at = fleets.reconnect_all()
    back = fleets.wait_back(since=cut_at, up=cut_at, timeout=120)
    return {
        "kind": "herd",
        "clients": fleets.size,
        "back": back["back"],
        "all_back_s": _after(back["last_back_at"], cut_at),
        "failed_attempts": back["failed_after_up"],
        "failure_kinds": back["failure_kinds"],
        "not_back": back["total"] - back["back"],
        "cpu_pct": meter.percent(),
    }


def _after(moment: float | None, since: float) -> float | None:
    return None if moment is None else round(moment - since, 2)


if __name__ == "__main__":
    main(sys.argv[1:])
