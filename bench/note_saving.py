"""Benchmark: saving call notes while 1,000 panels are connected and calls flow.

Agents type notes on the calls in progress: each of `--writers` sessions saves its call's note
through `POST /calls/<key>/work/` once a second (the page saves a second after the last keystroke),
the note a little longer each time. Meanwhile the push latency of new calls to every connected
client is measured exactly as `bench.live_latency` does; the same measurement without writers,
in the same run, is the baseline.

Prints one JSON line (`note_saving`):

- `save_p50/p95/p99_ms`: one note save, request to answer;
- `push_p95_ms`, `push_p95_baseline_ms`: call start → a client received it, with and without
  the writers (this includes the wait for the next poll, random per call: up to an interval);
- `overhead_p95_ms`, `overhead_p95_baseline_ms`, `overhead_p95_change_ms`: the PBX's answer
  that first held the call → the last client received it, with and without the writers: the
  part of the push latency the web server's extra work can change.

Targets: a save's p95 under 100 ms, and the push latency (its own overhead, p95) within 50 ms of
the baseline.

Usage: python -m bench.note_saving sqlite|postgres [--clients 1000] [--writers 10] [--calls 40]
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time

import requests

from bench.live_latency import latency_change, measure, panels_streaming
from bench.live_stack import emit, live_bench, ms, percentile

BACKGROUND_CALLS = 20
INTERVAL = 2.0
CSRF = "a" * 32
SAVE_EVERY = 1.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--calls", type=int, default=40, help="test calls per measurement")
    return parser.parse_args(argv)


class Writers:
    """`count` agents, each saving the note of a call of their own once a second."""

    def __init__(self, base_url: str, cookies: list[str], keys: list[str]) -> None:
        self.base_url = base_url
        self.jobs = list(zip(cookies, keys, strict=False))
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._write, args=job, daemon=True) for job in self.jobs
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _write(self, cookie: str, key: str) -> None:
        # A browser's connection: kept alive, with the session and a CSRF token (Django compares
        # the cookie's with the header's).
        session = requests.Session()
        session.headers.update(
            {"Cookie": f"{cookie}; csrftoken={CSRF}", "X-CSRFToken": CSRF, "Referer": self.base_url}
        )
        note = ""
        rng = random.Random(key)
        time.sleep(rng.uniform(0, SAVE_EVERY))  # the agents do not type in step
        while not self.stopping.is_set():
            note += rng.choice(("Müşteri ", "iade ", "istiyor, ", "yarın ", "arayacak. "))
            began = time.monotonic()
            try:
                save(session, self.base_url, key, note[-4000:])
                self.latencies.append(time.monotonic() - began)
            except requests.RequestException as exc:
                self.failures.append(str(exc))
            self.stopping.wait(SAVE_EVERY)


def save(session: requests.Session, base_url: str, key: str, note: str) -> None:
    response = session.post(f"{base_url}/calls/{key}/work/", data={"note": note}, timeout=10)
    response.raise_for_status()


def live_keys(stack, count: int) -> list[str]:
    """The keys of `count` calls in progress, from the snapshot a browser receives."""
    snapshot = json.loads(stack.snapshot_text())
    keys = [call["key"] for call in snapshot["calls"]]
    if len(keys) < count:
        raise RuntimeError(f"only {len(keys)} calls in progress for {count} writers")
    return keys[:count]


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with live_bench(args.backend, sessions=args.clients) as bench:
        rng = random.Random(2026)
        panels_streaming(bench, args.clients, INTERVAL, rng, BACKGROUND_CALLS)
        stack, fleets = bench.stack, bench.fleets
        keys = live_keys(stack, min(args.writers, BACKGROUND_CALLS))
        # One session per writer, each of another agent (the sessions go round 50 agents).
        cookies = bench.cookies[: len(keys)]

        baseline = measure(bench.sim, stack, fleets, INTERVAL, args.calls, rng, bench.pool)
        with Writers(stack.url, cookies, keys) as writers:
            loaded = measure(bench.sim, stack, fleets, INTERVAL, args.calls, rng, bench.pool)
        emit(
            {
                "benchmark": "note_saving",
                "clients": args.clients,
                "writers": len(keys),
                "saves": len(writers.latencies),
                "save_failures": len(writers.failures),
                "first_failure": writers.failures[0] if writers.failures else None,
                "save_p50_ms": ms(percentile(writers.latencies, 0.5)),
                "save_p95_ms": ms(percentile(writers.latencies, 0.95)),
                "save_p99_ms": ms(percentile(writers.latencies, 0.99)),
                **latency_change(baseline, loaded),
            }
        )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
