"""Poll sequences as data, played through the live diff and the wallboard's `observe`.

A sequence is a list of `(t, [calls], pbx_ok)`: `t` seconds after 09:00 Istanbul time on
1 December 2026, the calls the PBX listed (ignored when `pbx_ok` is false) built with the helpers
below. Each good poll goes through `calls.live.diff.diff_calls` as in the real poll, so a call
keeps its key for its whole life; a failed poll keeps the last calls, as the real poll does.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calls.live.diff import LiveCall, diff_calls
from calls.pbx import ActiveCall
from calls.wallboard import FinishedCall, WallboardState, observe

IST = ZoneInfo("Europe/Istanbul")
T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=IST)
AYSE, MEHMET, FATMA, ALI = "905321234567", "905559998877", "905441112233", "905067778899"

Poll = tuple[float, Sequence[ActiveCall], bool]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def queued(channel: str, queue: str, src: str = AYSE) -> ActiveCall:
    """Waiting in `queue`, no agent's phone ringing yet (`dst` is the queue)."""
    return ActiveCall(channel, src, queue, f"Kuyruk({queue})", "Kuyrukta", 0)


def ringing(channel: str, queue: str | None, extension: str, src: str = AYSE) -> ActiveCall:
    """Ringing `extension`, from `queue` or dialled directly (`queue` None)."""
    calltype = f"Kuyruk({queue})" if queue else "Gelen Arama"
    return ActiveCall(channel, src, extension, calltype, "Çalıyor", 0)


def talking(channel: str, queue: str | None, extension: str, src: str = AYSE) -> ActiveCall:
    calltype = f"Kuyruk({queue})" if queue else "Gelen Arama"
    return ActiveCall(channel, src, extension, calltype, "Konuşuyor", 0)


def dialling(channel: str, extension: str, number: str) -> ActiveCall:
    """`extension` calling out, not answered yet."""
    return ActiveCall(channel, extension, number, "Dış Arama", "Çalıyor", 0)


def talking_out(channel: str, extension: str, number: str) -> ActiveCall:
    """`extension`'s outbound call, answered by the outside party."""
    return ActiveCall(channel, extension, number, "Dış Arama", "Konuşuyor", 0)


@dataclass
class Played:
    state: WallboardState | None = None
    finished: list[FinishedCall] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # channel → the call's key
    live: dict[str, LiveCall] = field(default_factory=dict)

    def finished_by_channel(self) -> dict[str, FinishedCall]:
        channels = {key: channel for channel, key in self.keys.items()}
        return {channels[call.key]: call for call in self.finished}

    def watched(self, channel: str):
        return self.state.calls[self.keys[channel]]


def play(polls: Sequence[Poll], *, poll_interval: float = 2.0, start: Played | None = None):
    """The wallboard after these polls (continuing `start`, when given)."""
    played = start or Played()
    counter = itertools.count(len(played.keys) + 1)
    for t, calls, ok in polls:
        now = at(t)
        if ok:
            diff = diff_calls(played.live, list(calls), now, lambda: f"{next(counter):032x}")
            played.live = diff.calls
            played.keys.update({call.channel: call.key for call in diff.added})
        observed = observe(
            played.state,
            now,
            played.live.values(),
            pbx_ok=ok,
            poll_interval=poll_interval,
            tz=IST,
        )
        played.state = observed.state
        played.finished.extend(observed.finished)
    return played
