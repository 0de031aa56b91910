"""What a browser may send on the live-calls socket, and how often (docs/websocket-protocol.md,
"Browser → server").

The only message is `{"type": "resync"}`, 17 bytes. Everything else is read at most once, cheaply,
and ignored: the server never spends more on a message than its size allows, and a client cannot
make it answer faster than a page ever needs. Pure, no Django: the web server reads the size limit
before Django is set up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

# Larger messages close the socket with 1009 (the web server enforces it while reading, before a
# byte of the message reaches the application). Room for a far larger message than any we define.
MAX_MESSAGE_BYTES = 4096
RESYNC = "resync"
# A page asks for a snapshot after a gap or a new run (then it has one, and asks no more) and
# after three silent poll intervals. Five at once, then one a second, is more than it ever asks;
# each answer costs a Redis read, a group renewal and the whole snapshot.
RESYNC_BURST = 5
RESYNC_EVERY_SECONDS = 1.0


def message_type(text: str | None) -> str | None:
    """The `type` of a browser's message, or None for anything that is not a JSON object with a
    string `type` (not JSON, nested too deep to parse, a binary frame, another shape)."""
    try:
        message = json.loads(text or "")
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message["type"]


class ResyncAllowance:
    """A token bucket for one socket: `burst` answers at once, then one per `every` seconds."""

    def __init__(
        self,
        burst: int = RESYNC_BURST,
        every: float = RESYNC_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst, self._every, self._clock = burst, every, clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> float:
        """Use an answer now and return 0, or return how many seconds until one is free."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._every)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) * self._every
