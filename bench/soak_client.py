"""A websocket client that speaks the live-calls protocol exactly as the browser does.

It mirrors `static/js/live-connection.js` rule by rule (docs/websocket-protocol.md): apply the
snapshot, apply diffs in `seq` order, ignore an old `seq`, ask for a `resync` on a gap, a new
`run` or an old `seq` from a newer poll, reconnect after a drop with the same jittered exponential
backoff, watch for silence (a resync after three quiet poll intervals, a new socket when even
that goes unanswered), and never retry close code 4401 or 4403. It also counts what the soak
reports: disconnects, recoveries and how long each recovery took.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

# The browser's constants (static/js/live-connection.js; tests/test_protocol_client_constants.py
# keeps them equal).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
# The silence watchdog: after this many poll intervals without a message, ask for a snapshot; if
# that goes unanswered for RESYNC_ANSWER_S, drop the socket and reconnect.
STALE_AFTER_INTERVALS = 3
RESYNC_ANSWER_S = 3.0
OPEN_TIMEOUT_S = 10.0


def _time(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0-based): half the ceiling plus jitter,
    so a restarted server is not hit by every client at the same instant."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)
    return ceiling / 2 + rng.random() * (ceiling / 2)


@dataclass
class ClientStats:
    snapshots: int = 0
    diffs_applied: int = 0
    diffs_ignored: int = 0  # an old seq, already part of a snapshot
    resyncs: int = 0  # a gap or a new run: asked for a snapshot
    disconnects: int = 0  # an open connection dropped
    recoveries: int = 0  # a snapshot received again after a drop
    failed_attempts: int = 0  # reconnect attempts refused (the server was down)
    reconnect_s: list[float] = field(default_factory=list)  # drop → first snapshot again
    disconnected_at: list[float] = field(default_factory=list)  # wall-clock times of drops
    unauthenticated: bool = False
    forbidden: bool = False  # refused with 4403: no role that shows live calls
    watchdog_resyncs: int = 0  # a resync asked for after a silence
    watchdog_drops: int = 0  # a socket dropped because even the resync went unanswered


class LiveClient:
    """One panel's view of the live calls, kept up to date over `/ws/calls/` until cancelled."""

    def __init__(
        self, name: str, base_url: str, cookie: str, *, seed: int, poll_interval: float
    ) -> None:
        self.name = name
        self.poll_interval = poll_interval  # the server's, as the page gets it from its config
        self.ws_url = base_url.replace("http://", "ws://", 1) + "/ws/calls/"
        self.origin = base_url
        self.headers = {"Cookie": cookie}  # "sessionid=…", the logged-in session
        self.rng = random.Random(seed)
        self.run: str | None = None
        self.seq: int | None = None
        self.at: datetime | None = None  # the poll time of the state held
        self.calls: dict[str, dict[str, Any]] = {}
        self.stats = ClientStats()
        self.connected = False  # a socket is open and a snapshot has arrived on it
        self._dropped_at: float | None = None  # monotonic time of the drop being recovered from

    async def run_forever(self) -> None:
        """Connect, follow the protocol, reconnect after every drop; ends only when cancelled or
        refused with 4401."""
        attempt = 0
        while True:
            was_open = False
            close_code: int | None = None
            try:
                async with connect(
                    self.ws_url,
                    origin=self.origin,  # type: ignore[arg-type]
                    additional_headers=self.headers,
                    open_timeout=OPEN_TIMEOUT_S,
                    close_timeout=2,
                    # Browsers send no pings; a dead server shows as a closed socket.
                    ping_interval=None,
                    max_size=8 * 2**20,
                ) as socket:
                    was_open = True
                    attempt = 0  # like the page's onopen
                    close_code = await self._receive(socket)
            except ConnectionClosed as exc:
                close_code = exc.rcvd.code if exc.rcvd is not None else None
            except (OSError, TimeoutError, InvalidHandshake):
                pass  # the server is down or restarting: retry later
            self.connected = False
            if close_code == CLOSE_UNAUTHENTICATED:
                self.stats.unauthenticated = True
                return
            if close_code == CLOSE_FORBIDDEN:
                self.stats.forbidden = True
                return
            if was_open:
                if self._dropped_at is None:
                    self._dropped_at = time.monotonic()
                    self.stats.disconnects += 1
                    self.stats.disconnected_at.append(time.time())
            else:
                self.stats.failed_attempts += 1
            await asyncio.sleep(backoff_delay(attempt, self.rng))
            attempt += 1

    async def _receive(self, socket: ClientConnection) -> int | None:
        """Handle messages until the socket closes, with the page's silence watchdog: an open
        socket can go quiet while the server runs (Redis forgot the group membership)."""
        silence_s = STALE_AFTER_INTERVALS * self.poll_interval
        resync_sent = False
        while True:
            try:
                # recv() is cancel-safe: a timeout loses no message.
                text = await asyncio.wait_for(
                    socket.recv(), RESYNC_ANSWER_S if resync_sent else silence_s
                )
            except TimeoutError:
                if resync_sent:
                    self.stats.watchdog_drops += 1
                    await socket.close(4000, "silent socket")
                    return None  # a drop like any other: reconnect with the backoff
                self.stats.watchdog_resyncs += 1
                resync_sent = True
                await socket.send(json.dumps({"type": "resync"}))
                continue
            resync_sent = False
            await self._handle(socket, json.loads(text))

    async def _handle(self, socket: ClientConnection, message: dict[str, Any]) -> None:
        if message.get("type") == "snapshot":
            self.run, self.seq, self.at = message["run"], message["seq"], _time(message["at"])
            self.calls = {call["channel"]: call for call in message["calls"]}
            self.stats.snapshots += 1
            self.connected = True
            if self._dropped_at is not None:
                self.stats.recoveries += 1
                self.stats.reconnect_s.append(time.monotonic() - self._dropped_at)
                self._dropped_at = None
        elif message.get("type") == "diff":
            if (
                message["run"] != self.run
                or self.seq is None
                or message["seq"] > self.seq + 1
                or self._went_back(message)
            ):
                # A reset server, a missed diff or a state gone back: only a snapshot is safe.
                self.stats.resyncs += 1
                await socket.send(json.dumps({"type": "resync"}))
            elif message["seq"] == self.seq + 1:
                self.seq, self.at = message["seq"], _time(message["at"])
                for call in (*message["added"], *message["changed"]):
                    self.calls[call["channel"]] = call
                for channel in message["removed"]:
                    self.calls.pop(channel, None)
                self.stats.diffs_applied += 1
            else:
                self.stats.diffs_ignored += 1

    def _went_back(self, diff: dict[str, Any]) -> bool:
        """An old seq from a poll newer than the state held: the server's state went back to an
        older copy, not a diff the snapshot already held."""
        at = _time(diff["at"])
        return diff["seq"] <= self.seq and self.at is not None and at is not None and at > self.at
