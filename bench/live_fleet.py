"""A fleet of browser-like websocket clients in a process of its own, driven over pipes.

The live-path benchmarks start one or more of these (`bench/live_stack.py` `Fleet`), so that the
load generator's CPU can be measured apart from the panel's and spread over processes. Each client
logs in with a real session cookie, follows the protocol as `static/js/live-connection.js` does
(snapshot, diffs in `seq` order, `resync` on a gap or a new `run`, reconnect with the page's
jittered backoff) and notes when it first learns of each call, on `time.monotonic()`, the clock
every process of the machine shares.

    python bench/live_fleet.py WS_URL COOKIES_FILE SEED

Commands come on stdin, one JSON object a line; each gets exactly one JSON line on stdout:

- `{"cmd": "grow", "to": N, "batch": 100}`: open clients up to N, a batch at a time, each batch
  waited for (snapshot received) before the next;
- `{"cmd": "status"}`: open clients (with a snapshot), total, drops, failed attempts by kind;
- `{"cmd": "report", "channels": [...]}`: per channel, the time each client first had it; message
  counts and sizes;
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

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

# The browser's reconnect constants (static/js/live-connection.js;
# tests/test_protocol_client_constants.py keeps them equal). The page's silence watchdog is not
# here: a fleet lives for one measurement of seconds, and the soak client (bench/soak_client.py)
# is the one that follows a socket through hours of faults.
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
OPEN_TIMEOUT_S = 10.0


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """The page's delay before reconnect attempt `attempt`: half the ceiling plus jitter."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)
    return ceiling / 2 + rng.random() * ceiling / 2


class Fleet:
    def __init__(self, ws_url: str, cookies: list[str], seed: int) -> None:
        self.ws_url = ws_url
        self.origin = ws_url.replace("ws://", "http://", 1).split("/ws/", 1)[0]
        self.cookies = cookies
        self.rng = random.Random(seed)
        self.clients: list[Client] = []
        self.tasks: list[asyncio.Task[None]] = []
        # Every client gets the same text for a poll: parse it once.
        self._parsed: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.reset()

    def reset(self) -> None:
        # channel → {client index: monotonic time it first had the call}
        self.receipts: dict[str, dict[int, float]] = defaultdict(dict)
        self.counts: dict[str, int] = defaultdict(int)
        self.failures: list[float] = []  # monotonic times of refused or failed connection attempts
        self.failure_kinds: Counter[str] = Counter()
        self.drops = 0

    def parse(self, text: str) -> dict[str, Any]:
        message = self._parsed.get(text)
        if message is None:
            message = json.loads(text)
            message["_bytes"] = len(text.encode())
            self._parsed[text] = message
            if len(self._parsed) > 8:
                self._parsed.popitem(last=False)
        return message

    def open_count(self) -> int:
        return sum(1 for client in self.clients if client.has_snapshot)

    async def grow(self, to: int, batch: int, timeout: float) -> dict[str, Any]:
        batches = []
        while len(self.clients) < min(to, len(self.cookies)):
            first = len(self.clients)
            size = min(batch, to - first)
            new = [Client(self, first + i, self.cookies[first + i]) for i in range(size)]
            self.clients.extend(new)
            started = time.monotonic()
            self.tasks.extend(asyncio.create_task(client.run()) for client in new)
            deadline = started + timeout
            while not all(c.has_snapshot for c in new) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            batches.append(round(time.monotonic() - started, 3))
        return {
            "open": self.open_count(),
            "total": len(self.clients),
            "batches_s": batches,
            "failures": len(self.failures),
        }

    def status(self) -> dict[str, Any]:
        return {
            "open": self.open_count(),
            "total": len(self.clients),
            "drops": self.drops,
            "failures": len(self.failures),
            "unauthenticated": sum(1 for c in self.clients if c.unauthenticated),
            "failure_kinds": dict(self.failure_kinds),
        }

    def report(self, channels: list[str]) -> dict[str, Any]:
        return {
            "receipts": {ch: list(self.receipts.get(ch, {}).values()) for ch in channels},
            "counts": dict(self.counts),
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

        def back(client: Client) -> bool:
            return client.has_snapshot and client.snapshot_at > since

        while not all(back(c) for c in self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        returned = [c.snapshot_at for c in self.clients if back(c)]
        return {
            "back": len(returned),
            "total": len(self.clients),
            "last_back_at": max(returned) if returned else None,
            "failed_before_up": sum(1 for t in self.failures if since <= t < up),
            "failed_after_up": sum(1 for t in self.failures if t >= up),
            "failure_kinds": dict(self.failure_kinds),
            "unauthenticated": sum(1 for c in self.clients if c.unauthenticated),
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Client:
    def __init__(self, fleet: Fleet, index: int, cookie: str) -> None:
        self.fleet = fleet
        self.index = index
        self.cookie = cookie
        self.run_id: str | None = None
        self.seq = 0
        self.has_snapshot = False  # the current connection has delivered its snapshot
        self.snapshot_at = 0.0
        self.unauthenticated = False
        self.socket: ClientConnection | None = None
        self.at_once = False  # reconnect without the backoff (a thundering herd)

    def cut(self) -> None:
        """Drop the connection without a closing handshake, as a network failure does."""
        if self.socket is not None:
            self.at_once = True
            self.socket.transport.abort()

    async def run(self) -> None:
        attempt = 0
        while True:
            opened = False
            try:
                async with connect(
                    self.fleet.ws_url,
                    origin=self.fleet.origin,  # type: ignore[arg-type]
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=OPEN_TIMEOUT_S,
                    close_timeout=1,
                    ping_interval=None,  # browsers send no pings (they answer the server's)
                    max_size=None,
                ) as socket:
                    opened = True
                    attempt = 0
                    self.socket = socket
                    async for text in socket:
                        await self.handle(socket, text)
                    # Neither refusal is retried, as on the page: it would fail the same way.
                    if socket.close_code in (CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN):
                        self.unauthenticated = True
                        return
            except ConnectionClosed as exc:
                refused = (CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN)
                if exc.rcvd is not None and exc.rcvd.code in refused:
                    self.unauthenticated = True
                    return
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                self.fleet.failure_kinds[type(exc).__name__] += 1
            self.has_snapshot = False
            self.socket = None
            if opened:
                self.fleet.drops += 1
            else:
                self.fleet.failures.append(time.monotonic())
            if self.at_once:
                self.at_once = False
                continue
            await asyncio.sleep(backoff_delay(attempt, self.fleet.rng))
            attempt += 1

    async def handle(self, socket: ClientConnection, text: str | bytes) -> None:
        now = time.monotonic()
        message = self.fleet.parse(text if isinstance(text, str) else text.decode())
        kind = message.get("type")
        counts = self.fleet.counts
        counts[f"{kind}_messages"] += 1
        counts[f"{kind}_bytes"] += message["_bytes"]
        if kind == "snapshot":
            self.run_id, self.seq = message["run"], message["seq"]
            self._saw(message["calls"], now)
            self.has_snapshot = True
            self.snapshot_at = now
        elif kind == "diff":
            if message["run"] != self.run_id or message["seq"] > self.seq + 1:
                counts["resyncs"] += 1
                await socket.send('{"type":"resync"}')
            elif message["seq"] == self.seq + 1:
                self.seq = message["seq"]
                self._saw(message["added"], now)

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
    with open(cookies_file) as handle:
        cookies = [line.strip() for line in handle if line.strip()]
    fleet = Fleet(ws_url, cookies, seed)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(fleet))
    else:
        uvloop.run(serve(fleet))


if __name__ == "__main__":
    main()
