"""The live-calls websocket client of the soak and the benchmarks: a panel without the page.

It follows `static/js/live-connection.js` rule by rule (docs/websocket-protocol.md): apply the
snapshot, apply diffs in `seq` order, ignore an old `seq`, ask for a `resync` on a gap, a new
`run` or an old `seq` from a newer poll, keep what it holds when a server that lost its state sends
an empty snapshot, reconnect after a drop with the same jittered exponential backoff, watch for
silence (a resync after three quiet poll intervals, a new socket when even that goes unanswered),
and never retry close code 4401 or 4403. Clients stand in for browsers, so what they measure holds
for real pages only while they behave like them: `tests/bench/test_protocol_client_constants.py`
compares the constants and the message rules with the page's.

A client keeps the calls it was sent and counts what the soak and the benchmarks report (drops,
failed attempts, recoveries and how long each took, resyncs and why). The benchmarks' client fleet
(`bench/live_fleet.py`) adds its own bookkeeping through the `decode` and `on_message` hooks.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

# The page's constants (static/js/live-connection.js), in seconds.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
# The silence watchdog: after this many poll intervals without a message, ask for a snapshot; if
# that goes unanswered for RESYNC_ANSWER_S, drop the socket and reconnect.
STALE_AFTER_INTERVALS = 3
RESYNC_ANSWER_S = 3.0

# A browser's handshake has no limit of its own; this one only keeps a dead server from holding
# an attempt forever.
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 1.0
# The close code the page uses when it drops a socket itself.
CLOSE_DROPPED = 4000

Action = Literal["snapshot", "hold", "apply", "resync", "ignore"]


@dataclass(frozen=True)
class Shown:
    """What a client holds: the `run`, `seq` and poll time `at` of the last message applied."""

    run: str | None = None
    seq: int | None = None
    at: str | None = None


@lru_cache(maxsize=64)
def _time(at: str) -> datetime:
    # A thousand clients in one process read the same few `at` values.
    return datetime.fromisoformat(at)


def message_action(shown: Shown, message: dict[str, Any]) -> Action:
    """What a message does to the state held, as the page's `messageAction` decides it:
    "snapshot" replaces it; "hold" keeps it (an empty snapshot from a server that lost its state,
    which the first diff of the new run will resync); "apply" is the next diff of the same run;
    "resync" asks for a snapshot (a new run, a gap, or the server's state gone back); "ignore" is
    an older diff the snapshot already held, or a message of no known type."""
    kind = message.get("type")
    if kind == "snapshot":
        return "hold" if message["run"] == "" and shown.run else "snapshot"
    if kind != "diff":
        return "ignore"
    if message["run"] != shown.run or shown.seq is None or message["seq"] > shown.seq + 1:
        return "resync"
    if _went_back(shown, message):
        return "resync"
    return "apply" if message["seq"] == shown.seq + 1 else "ignore"


def _went_back(shown: Shown, diff: dict[str, Any]) -> bool:
    """An old seq from a poll newer than the state held: not a diff the snapshot already held,
    but the server's state gone back to an older copy, from which new diffs now continue."""
    assert shown.seq is not None
    return (
        diff["seq"] <= shown.seq
        and shown.at is not None
        and diff.get("at") is not None
        and _time(diff["at"]) > _time(shown.at)
    )


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0-based): half the ceiling plus jitter,
    so a restarted server is not hit by every client at the same instant."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)
    return ceiling / 2 + rng.random() * (ceiling / 2)


@dataclass
class ClientStats:
    snapshots: int = 0
    holds: int = 0  # empty snapshots of a server that lost its state: the calls were kept
    diffs_applied: int = 0
    diffs_ignored: int = 0  # an old seq, already part of a snapshot
    resyncs: int = 0  # a gap, a new run or a state gone back: asked for a snapshot
    disconnects: int = 0  # an open connection dropped (once per outage)
    recoveries: int = 0  # a snapshot received again after a drop
    reconnect_s: list[float] = field(default_factory=list)  # drop → first snapshot again
    disconnected_at: list[float] = field(default_factory=list)  # wall-clock times of drops
    failed_at: list[float] = field(default_factory=list)  # monotonic times of refused attempts
    failure_kinds: Counter[str] = field(default_factory=Counter)  # their exception types
    watchdog_resyncs: int = 0  # a resync asked for after a silence
    watchdog_drops: int = 0  # a socket dropped because even the resync went unanswered

    @property
    def failed_attempts(self) -> int:
        """Connection attempts that failed (the server was down or refused the handshake)."""
        return len(self.failed_at)


def origin_of(ws_url: str) -> str:
    """The page's origin for a websocket URL: the server checks it as it checks a browser's."""
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}"


class LiveClient:
    """One panel's view of the live calls over `ws_url`, kept up to date until cancelled."""

    def __init__(
        self,
        name: str,
        ws_url: str,
        cookie: str,
        *,
        rng: random.Random,
        poll_interval: float | None,
    ) -> None:
        self.name = name
        self.ws_url = ws_url
        self.origin = origin_of(ws_url)
        self.headers = {"Cookie": cookie}  # "sessionid=…", a logged-in session
        self.rng = rng
        # The server's interval, as the page gets it from its config; None: no silence watchdog
        # (for a benchmark that stops the poller on purpose and would only measure its resyncs).
        self.poll_interval = poll_interval
        self.shown = Shown()
        self.calls: dict[str, dict[str, Any]] = {}
        self.stats = ClientStats()
        self.connected = False  # a socket is open and a snapshot has arrived on it
        self.snapshot_at = 0.0  # monotonic time of the last snapshot
        self.unauthenticated = False  # refused with 4401: the session is gone
        self.forbidden = False  # refused with 4403: no role that shows live calls
        self._socket: ClientConnection | None = None
        self._dropped_at: float | None = None  # monotonic time of the drop being recovered from
        self._at_once = False

    @property
    def seq(self) -> int | None:
        return self.shown.seq

    # --- hooks for the fleet ---------------------------------------------------------------------

    def decode(self, text: str) -> dict[str, Any]:
        return json.loads(text)

    def on_message(self, message: dict[str, Any], action: Action, received_at: float) -> None:
        """Called after each message is handled; `received_at` is on `time.monotonic()`."""

    # --- the connection --------------------------------------------------------------------------

    def cut(self) -> None:
        """Drop the connection without a closing handshake, as a network failure does, and
        reconnect at once without the backoff: many cut together make a thundering herd."""
        if self._socket is not None:
            self._at_once = True
            self._socket.transport.abort()

    async def run_forever(self) -> None:
        """Connect, follow the protocol, reconnect after every drop; ends only when cancelled or
        refused with 4401 or 4403 (it would fail the same way again)."""
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
                    close_timeout=CLOSE_TIMEOUT_S,
                    # Browsers send no pings (they answer the server's).
                    ping_interval=None,
                    max_size=None,
                ) as socket:
                    was_open = True
                    attempt = 0  # like the page's onopen
                    self._socket = socket
                    await self._receive(socket)
            except ConnectionClosed as exc:
                close_code = exc.rcvd.code if exc.rcvd is not None else None
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                # The server is down or restarting: retry later.
                self.stats.failed_at.append(time.monotonic())
                self.stats.failure_kinds[type(exc).__name__] += 1
            self._socket = None
            self.connected = False
            if close_code == CLOSE_UNAUTHENTICATED:
                self.unauthenticated = True
                return
            if close_code == CLOSE_FORBIDDEN:
                self.forbidden = True
                return
            if was_open and self._dropped_at is None:
                self._dropped_at = time.monotonic()
                self.stats.disconnects += 1
                self.stats.disconnected_at.append(time.time())
            if self._at_once:
                self._at_once = False
                continue
            await asyncio.sleep(backoff_delay(attempt, self.rng))
            attempt += 1

    async def _receive(self, socket: ClientConnection) -> None:
        """Handle messages until the socket closes, with the page's silence watchdog: an open
        socket can go quiet while the server runs (Redis forgot the group membership, or the web
        server's connection to it hangs)."""
        resync_sent = False
        while True:
            wait = None
            if resync_sent:
                wait = RESYNC_ANSWER_S
            elif self.poll_interval is not None:
                wait = STALE_AFTER_INTERVALS * self.poll_interval
            try:
                # recv() is cancel-safe: a timeout loses no message.
                async with asyncio.timeout(wait):
                    text = await socket.recv()
            except TimeoutError:
                if resync_sent:
                    self.stats.watchdog_drops += 1
                    await socket.close(CLOSE_DROPPED, "silent socket")
                    return  # a drop like any other: reconnect with the backoff
                self.stats.watchdog_resyncs += 1
                resync_sent = True
                await self._resync(socket)
                continue
            received_at = time.monotonic()
            resync_sent = False
            message = self.decode(text if isinstance(text, str) else text.decode())
            action = await self._handle(socket, message, received_at)
            self.on_message(message, action, received_at)

    async def _handle(
        self, socket: ClientConnection, message: dict[str, Any], received_at: float
    ) -> Action:
        action = message_action(self.shown, message)
        if action in ("snapshot", "hold"):
            if action == "snapshot":
                self.shown = Shown(message["run"], message["seq"], message["at"])
                self.calls = {call["channel"]: call for call in message["calls"]}
                self.stats.snapshots += 1
            else:
                self.stats.holds += 1
            self.connected = True
            self.snapshot_at = received_at
            if self._dropped_at is not None:
                self.stats.recoveries += 1
                self.stats.reconnect_s.append(received_at - self._dropped_at)
                self._dropped_at = None
        elif action == "apply":
            self.shown = Shown(self.shown.run, message["seq"], message["at"])
            for call in (*message["added"], *message["changed"]):
                self.calls[call["channel"]] = call
            for channel in message["removed"]:
                self.calls.pop(channel, None)
            self.stats.diffs_applied += 1
        elif action == "resync":
            # A reset server, a missed diff or a state gone back: only a snapshot is safe.
            self.stats.resyncs += 1
            await self._resync(socket)
        elif message.get("type") == "diff":
            self.stats.diffs_ignored += 1
        return action

    async def _resync(self, socket: ClientConnection) -> None:
        await socket.send('{"type":"resync"}')
