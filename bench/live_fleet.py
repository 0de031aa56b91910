"""A fleet of browser-like websocket clients in a process of its own, driven over pipes.

The live-path benchmarks start one or more of these (`bench/live_stack.py` `Fleet`), so that the
load generator's CPU can be measured apart from the panel's and spread over processes. Each client
logs in with a real session cookie, is a `bench.protocol_client.LiveClient` (the page's protocol
rules, backoff and silence watchdog) and notes when it first learns of each call, on
`time.monotonic()`, the clock every process of the machine shares.

    python -m bench.live_fleet WS_URL COOKIES_FILE SEED [POLL_INTERVAL]

POLL_INTERVAL is the server's, which the silence watchdog counts in (as the page gets it from its
config); default 1 s, `off` for none. Commands come on stdin, one JSON object a line; each gets
exactly one JSON line on stdout:

- `{"cmd": "grow", "to": N, "batch": 100}`: open clients up to N, a batch at a time, each batch
  waited for (snapshot received) before the next;
- `{"cmd": "poll_interval", "seconds": S}`: the server's poll interval changed (null: the poller
  is stopped on purpose; the watchdog waits, or the measurement would be of its resyncs);
- `{"cmd": "status"}`: open clients (with a snapshot), total, drops, failed attempts by kind;
- `{"cmd": "report", "channels": [...]}`: per channel, the time each client first had it; message
  counts and sizes, resyncs and the watchdog's resyncs and drops;
- `{"cmd": "reset"}`: forget receipts and counters (a new measurement starts);
- `{"cmd": "wait_receipts", "channels": [...], "timeout": S}`: wait until every open client has
  had every channel (or S seconds);
- `{"cmd": "wait_back", "since": T, "up": U, "timeout": S}`: after a server restart, wait until
  every client has a snapshot newer than T; when the last came back, failures before and after U;
- `{"cmd": "reconnect_all"}`: cut every socket at once (as a network blip does) and reconnect at
  once, without the backoff: a thundering herd; answers with the time of the cut;
- `{"cmd": "quit"}`: close every socket and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter, OrderedDict, defaultdict
from typing import Any

from bench.protocol_client import Action, ClientStats, LiveClient

DEFAULT_POLL_INTERVAL_S = 1.0


class Fleet:
    def __init__(
        self, ws_url: str, cookies: list[str], seed: int, poll_interval: float | None
    ) -> None:
        self.ws_url = ws_url
        self.cookies = cookies
        self.rng = random.Random(seed)
        self.poll_interval = poll_interval
        self.clients: list[FleetClient] = []
        self.tasks: list[asyncio.Task[None]] = []
        # Every client gets the same text for a poll: parse it once.
        self._parsed: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.reset()

    def reset(self) -> None:
        # channel → {client index: monotonic time it first had the call}
        self.receipts: dict[str, dict[int, float]] = defaultdict(dict)
        self.counts: dict[str, int] = defaultdict(int)
        for client in self.clients:
            client.stats = ClientStats()

    def parse(self, text: str) -> dict[str, Any]:
        message = self._parsed.get(text)
        if message is None:
            message = json.loads(text)
            message["_bytes"] = len(text.encode())
            self._parsed[text] = message
            if len(self._parsed) > 8:
                self._parsed.popitem(last=False)
        return message

    def set_poll_interval(self, seconds: float | None) -> None:
        self.poll_interval = seconds
        for client in self.clients:
            client.poll_interval = seconds

    def open_count(self) -> int:
        return sum(1 for client in self.clients if client.connected)

    def failures(self) -> list[float]:
        return [at for client in self.clients for at in client.stats.failed_at]

    def failure_kinds(self) -> dict[str, int]:
        return dict(sum((client.stats.failure_kinds for client in self.clients), Counter()))

    def refused(self) -> int:
        return sum(1 for c in self.clients if c.unauthenticated or c.forbidden)

    async def grow(self, to: int, batch: int, timeout: float) -> dict[str, Any]:
        batches = []
        while len(self.clients) < min(to, len(self.cookies)):
            first = len(self.clients)
            size = min(batch, to - first)
            new = [FleetClient(self, first + i, self.cookies[first + i]) for i in range(size)]
            self.clients.extend(new)
            started = time.monotonic()
            self.tasks.extend(asyncio.create_task(client.run_forever()) for client in new)
            deadline = started + timeout
            while not all(c.connected for c in new) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            batches.append(round(time.monotonic() - started, 3))
        return {
            "open": self.open_count(),
            "total": len(self.clients),
            "batches_s": batches,
            "failures": len(self.failures()),
        }

    def status(self) -> dict[str, Any]:
        return {
            "open": self.open_count(),
            "total": len(self.clients),
            "drops": sum(client.stats.disconnects for client in self.clients),
            "failures": len(self.failures()),
            # Refused with 4401 or 4403: neither is retried.
            "unauthenticated": self.refused(),
            "failure_kinds": self.failure_kinds(),
        }

    def report(self, channels: list[str]) -> dict[str, Any]:
        stats = [client.stats for client in self.clients]
        counts = {
            **self.counts,
            "resyncs": sum(s.resyncs for s in stats),
            "watchdog_resyncs": sum(s.watchdog_resyncs for s in stats),
            "watchdog_drops": sum(s.watchdog_drops for s in stats),
        }
        return {
            "receipts": {ch: list(self.receipts.get(ch, {}).values()) for ch in channels},
            "counts": counts,
            **self.status(),
        }

    async def wait_receipts(self, channels: list[str], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout

        def complete() -> bool:
            wanted = self.open_count()
            return all(len(self.receipts.get(ch, ())) >= wanted for ch in channels)

        while not complete() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return {"complete": complete()}

    def reconnect_all(self) -> dict[str, Any]:
        cut_at = time.monotonic()
        for client in self.clients:
            client.cut()
        return {"cut_at": cut_at}

    async def wait_back(self, since: float, up: float, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout

        def back(client: FleetClient) -> bool:
            return client.connected and client.snapshot_at > since

        while not all(back(c) for c in self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        returned = [c.snapshot_at for c in self.clients if back(c)]
        failures = self.failures()
        return {
            "back": len(returned),
            "total": len(self.clients),
            "last_back_at": max(returned) if returned else None,
            "failed_before_up": sum(1 for t in failures if since <= t < up),
            "failed_after_up": sum(1 for t in failures if t >= up),
            "failure_kinds": self.failure_kinds(),
            "unauthenticated": self.refused(),
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class FleetClient(LiveClient):
    """A client that shares the fleet's parsed messages and notes its receipts in the fleet."""

    def __init__(self, fleet: Fleet, index: int, cookie: str) -> None:
        super().__init__(
            f"fleet-{index}",
            fleet.ws_url,
            cookie,
            rng=fleet.rng,
            poll_interval=fleet.poll_interval,
        )
        self.fleet = fleet
        self.index = index

    def decode(self, text: str) -> dict[str, Any]:
        return self.fleet.parse(text)

    def on_message(self, message: dict[str, Any], action: Action, received_at: float) -> None:
        kind = message.get("type")
        counts = self.fleet.counts
        counts[f"{kind}_messages"] += 1
        counts[f"{kind}_bytes"] += message["_bytes"]
        if action == "snapshot":
            self._saw(message["calls"], received_at)
        elif action == "apply":
            self._saw(message["added"], received_at)

    def _saw(self, calls: list[dict[str, Any]], now: float) -> None:
        receipts = self.fleet.receipts
        for call in calls:
            receipts[call["channel"]].setdefault(self.index, now)


async def serve(fleet: Fleet) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        name = command.pop("cmd")
        if name == "grow":
            answer = await fleet.grow(command["to"], command.get("batch", 100), 60.0)
        elif name == "poll_interval":
            fleet.set_poll_interval(command["seconds"])
            answer = {"ok": True}
        elif name == "status":
            answer = fleet.status()
        elif name == "report":
            answer = fleet.report(command["channels"])
        elif name == "reset":
            fleet.reset()
            answer = {"ok": True}
        elif name == "wait_receipts":
            answer = await fleet.wait_receipts(command["channels"], command["timeout"])
        elif name == "reconnect_all":
            answer = fleet.reconnect_all()
        elif name == "wait_back":
            answer = await fleet.wait_back(command["since"], command["up"], command["timeout"])
        elif name == "quit":
            break
        else:
            answer = {"error": f"unknown command {name!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    await fleet.close()


def main() -> None:
    ws_url, cookies_file, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    interval = sys.argv[4] if len(sys.argv) > 4 else str(DEFAULT_POLL_INTERVAL_S)
    with open(cookies_file) as handle:
        cookies = [line.strip() for line in handle if line.strip()]
    fleet = Fleet(ws_url, cookies, seed, None if interval == "off" else float(interval))
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(fleet))
    else:
        uvloop.run(serve(fleet))


if __name__ == "__main__":
    main()
