"""Benchmark: 100 wallboards open beside 1,000 panels, and the panels' push latency.

The panel runs as deployed (bench.live_stack) at a 2 s poll, with 50 queues set up in the admin
and 500 agents with an extension each, so every board carries 50 queue rows and 500 extension
tiles. The wallboards are display-link screens (`/ws/display/<token>/`), each reading every board
pushed to it. The push latency of new calls to every panel is measured exactly as
`bench.live_latency` does, first with no wallboard open (the baseline), then with the wallboards.

Prints one JSON line (`wallboard_load`):

- `push_p95_ms`, `push_p95_baseline_ms`: call start → a panel received it, with and without the
  wallboards (this includes the wait for the next poll, random per call: up to an interval);
- `overhead_p95_ms`, `overhead_p95_baseline_ms`, `overhead_p95_change_ms`: the PBX's answer that
  first held the call → the last panel received it, with and without them;
- `boards_received`, `board_bytes`: boards the wallboards received while measured, and the size
  of the last.

Target: the panels' push latency (its own overhead, p95) within 50 ms of the baseline.

Usage: python -m bench.wallboard_load sqlite|postgres [--clients 1000] [--wallboards 100]
[--calls 40]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time

from websockets.asyncio.client import connect

from bench.live_latency import latency_change, measure, panels_streaming
from bench.live_stack import emit, live_bench
from bench.protocol_client import origin_of

BACKGROUND_CALLS = 20
INTERVAL = 2.0
QUEUES = 50
AGENTS = 500


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--wallboards", type=int, default=100)
    parser.add_argument("--calls", type=int, default=40, help="test calls per measurement")
    return parser.parse_args(argv)


def set_up_board() -> str:
    """50 queues with their levels, 500 agents with an extension each; a display link's path."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from calls.models import AgentProfile, WallboardQueue
    from calls.wallboard.display_links import create_display_link, display_path

    WallboardQueue.objects.bulk_create(
        WallboardQueue(queue=str(600 + n), name=f"Kuyruk {600 + n}", waiting_red=5)
        for n in range(QUEUES)
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"wallboard-agent-{n}") for n in range(AGENTS)
    )
    if users[0].pk is None:
        users = list(get_user_model().objects.filter(username__startswith="wallboard-agent-"))
    AgentProfile.objects.bulk_create(
        AgentProfile(user=user, extensions=str(2000 + n)) for n, user in enumerate(users)
    )
    _, token = create_display_link("bench", None)
    connections.close_all()
    return display_path(token)


class Wallboards:
    """`count` display-link screens, each reading every board, in a thread of their own."""

    def __init__(self, ws_url: str, count: int) -> None:
        self.ws_url, self.count = ws_url, count
        self.received = 0
        self.last_bytes = 0
        self.open = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Wallboards:
        self._thread.start()
        deadline = time.monotonic() + 60
        while self.open < self.count and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.open < self.count:
            raise RuntimeError(f"only {self.open} of {self.count} wallboards connected")
        self.received = 0
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    async def _run(self) -> None:
        screens = [asyncio.create_task(self._screen()) for _ in range(self.count)]
        while not self._stop.is_set():
            await asyncio.sleep(0.2)
        for screen in screens:
            screen.cancel()
        await asyncio.gather(*screens, return_exceptions=True)

    async def _screen(self) -> None:
        async with connect(self.ws_url, origin=origin_of(self.ws_url), max_size=None) as socket:  # type: ignore[arg-type]
            self.open += 1
            async for text in socket:
                self.received += 1
                self.last_bytes = len(text)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with live_bench(args.backend, sessions=args.clients) as bench:
        path = set_up_board()
        rng = random.Random(2027)
        panels_streaming(bench, args.clients, INTERVAL, rng, BACKGROUND_CALLS)
        stack, fleets = bench.stack, bench.fleets
        ws_url = stack.ws_url.replace("/ws/calls/", path.replace("/display/", "/ws/display/"))

        baseline = measure(bench.sim, stack, fleets, INTERVAL, args.calls, rng, bench.pool)
        with Wallboards(ws_url, args.wallboards) as boards:
            loaded = measure(bench.sim, stack, fleets, INTERVAL, args.calls, rng, bench.pool)
            received, size = boards.received, boards.last_bytes
        emit(
            {
                "benchmark": "wallboard_load",
                "clients": args.clients,
                "wallboards": args.wallboards,
                "boards_received": received,
                "board_bytes": size,
                **latency_change(baseline, loaded),
            }
        )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
