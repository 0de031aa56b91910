"""What the wallboard remembers between polls, and its JSON form (it lives in Redis).

Three parts, all bounded: the calls on the line now (`WatchedCall`, dropped when they leave),
today's counters per queue (`QueueDay`: counts and histograms of waits in whole seconds, so any
service-level threshold can be asked of them later) and per extension (`ExtensionDay`). Finished
calls are folded into the counters and forgotten; the rules are in docs/wallboard.md.

The JSON form comes in pieces, so that a poll stores only what it changed: each call on its own
(`call_json`), everything else in one small text (`WallboardState.counters_json`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

# Bump when the JSON form changes: a stored state of another version is not read (the wallboard
# starts afresh and the next CDR correction restores today's counts).
STATE_VERSION = 3


def whole_seconds(seconds: float) -> int:
    """A measured wait in whole seconds, to the nearest (half up): polls run a few milliseconds
    late, and 20.004 s must count as the 20 s it is, as within a 20 s threshold."""
    return max(0, math.floor(seconds + 0.5))


@dataclass(slots=True)
class WatchedCall:
    """One call on the line, as the polls saw it. Times are the polls' times."""

    key: str
    src: str
    dst: str
    direction: str
    first_seen: datetime
    # (The last good poll saw it: a good poll drops the calls it does not list.)
    parties_since: datetime  # the first poll that saw its current src and dst
    parties: list[str] = field(default_factory=list)  # its extensions (never a queue number)
    queue: str | None = None  # the last queue it waited in; kept once it is answered
    queued_at: datetime | None = None  # the first poll that saw it waiting in a queue
    wait_start_seen: bool = False  # that poll followed a good one: the wait began just before
    answered_at: datetime | None = None  # the first poll that saw it talking
    wait_seconds: int | None = None  # its measured wait, once answered (None: not measured)
    # A gap in the polls (PBX down, poller stopped, state lost) fell at its start, its answer or
    # (on the way out) its end: its figures are approximate until the CDR correction.
    uncertain: bool = False
    # The poll's call object last folded in (not stored): the live diff keeps a call's object
    # while the call does not change, so meeting the same object again is meeting nothing new.
    seen_as: object | None = field(default=None, compare=False, repr=False)

    def copy(self) -> WatchedCall:
        """A copy to change (`dataclasses.replace` costs six times as much, for every call on the
        line after every poll)."""
        twin = object.__new__(WatchedCall)
        for name in _WATCHED_FIELDS:
            object.__setattr__(twin, name, getattr(self, name))
        twin.parties = list(self.parties)
        return twin

    @property
    def waiting(self) -> bool:
        """In a queue and not yet answered."""
        return self.queue is not None and self.answered_at is None

    @property
    def talking_since(self) -> datetime | None:
        """Since when its current extensions talk: its answer, or a later change of parties."""
        if self.answered_at is None:
            return None
        return max(self.answered_at, self.parties_since)


@dataclass(slots=True)
class QueueDay:
    """A queue's counts for the day. The counts are the poll's since the last CDR correction
    (`cdr_*` hold the correction's); the wait histograms (whole seconds → calls) hold only waits
    the polls measured, and are never corrected: the CDR records no wait."""

    answered: int = 0
    abandoned: int = 0
    unresolved: int = 0  # left during a gap while waiting: answered or abandoned, unknown
    answered_waits: Counter[int] = field(default_factory=Counter)
    abandoned_waits: Counter[int] = field(default_factory=Counter)
    cdr_offered: int = 0
    cdr_answered: int = 0
    cdr_abandoned: int = 0
    corrected_at: datetime | None = None


@dataclass(slots=True)
class ExtensionDay:
    """An extension's day: calls it picked up, talk time of calls it has finished, and since when
    it has been free (the end of its last call; kept across midnight, unknown until one ends)."""

    answered: int = 0
    talk_seconds: float = 0.0
    free_since: datetime | None = None


@dataclass(slots=True)
class WallboardState:
    day_start: datetime | None = None  # local midnight (TIME_ZONE) of the counters' day
    last_poll_at: datetime | None = None
    last_ok_at: datetime | None = None
    pbx_ok: bool = False  # whether the last poll succeeded
    calls: dict[str, WatchedCall] = field(default_factory=dict)  # by the live call's key
    queues: dict[str, QueueDay] = field(default_factory=dict)
    extensions: dict[str, ExtensionDay] = field(default_factory=dict)

    def copy(self) -> WallboardState:
        """A copy to change without changing this one (cheaper than a deep copy, every poll)."""
        return replace(
            self,
            calls={key: call.copy() for key, call in self.calls.items()},
            queues={
                name: replace(
                    day,
                    answered_waits=Counter(day.answered_waits),
                    abandoned_waits=Counter(day.abandoned_waits),
                )
                for name, day in self.queues.items()
            },
            extensions={name: replace(day) for name, day in self.extensions.items()},
        )

    def queue_day(self, queue: str) -> QueueDay:
        return self.queues.setdefault(queue, QueueDay())

    def extension_day(self, extension: str) -> ExtensionDay:
        return self.extensions.setdefault(extension, ExtensionDay())

    def counters_json(self) -> str:
        """Everything but the calls, as stored (the calls: `call_json`)."""
        return json.dumps(
            {
                "version": STATE_VERSION,
                "day_start": _time(self.day_start),
                "last_poll_at": _time(self.last_poll_at),
                "last_ok_at": _time(self.last_ok_at),
                "pbx_ok": self.pbx_ok,
                "queues": {name: _queue_json(day) for name, day in self.queues.items()},
                "extensions": {
                    name: [day.answered, day.talk_seconds, _time(day.free_since)]
                    for name, day in self.extensions.items()
                },
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, counters: str | bytes, calls: Iterable[str | bytes]) -> WallboardState:
        """The state `counters_json` and `call_json` wrote; ValueError for another version or a
        malformed text."""
        try:
            data = json.loads(counters)
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"wallboard state version {data.get('version')!r}")
            # One decoding for every call: a call at a time costs twice as much.
            stored = json.loads(b"[" + b",".join(_as_bytes(text) for text in calls) + b"]")
            return cls(
                day_start=_parse_time(data["day_start"]),
                last_poll_at=_parse_time(data["last_poll_at"]),
                last_ok_at=_parse_time(data["last_ok_at"]),
                pbx_ok=bool(data["pbx_ok"]),
                calls={c[0]: _call_from_json(c) for c in stored},
                queues={name: _queue_from_json(q) for name, q in data["queues"].items()},
                extensions={
                    name: ExtensionDay(int(answered), float(talk), _parse_time(free))
                    for name, (answered, talk, free) in data["extensions"].items()
                },
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed wallboard state: {exc!r}") from exc


def call_json(call: WatchedCall) -> str:
    """A call on the line, as stored."""
    return json.dumps(_call_json(call), separators=(",", ":"), ensure_ascii=False)


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def merged(histograms: Iterable[Mapping[int, int]]) -> Counter[int]:
    total: Counter[int] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return total


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


_WATCHED_FIELDS = tuple(WatchedCall.__dataclass_fields__)
_CALL_TIMES = ("first_seen", "parties_since", "queued_at", "answered_at")
_CALL_VALUES = (
    "key",
    "src",
    "dst",
    "direction",
    "parties",
    "queue",
    "wait_start_seen",
    "wait_seconds",
    "uncertain",
)


# A call's times are stored as POSIX timestamps: a timestamp costs a tenth of an ISO text each
# way, and another worker process reads every call. They come back in UTC: the call's times are
# only compared and subtracted, never read as a local day (the state's `day_start` is).


def _call_json(call: WatchedCall) -> list[Any]:
    values = [getattr(call, name) for name in _CALL_VALUES]
    for name in _CALL_TIMES:
        moment = getattr(call, name)
        values.append(moment.timestamp() if moment is not None else None)
    return values


def _call_from_json(data: list[Any]) -> WatchedCall:
    values = dict(zip(_CALL_VALUES, data, strict=False))
    for name, stamp in zip(_CALL_TIMES, data[len(_CALL_VALUES) :], strict=True):
        values[name] = datetime.fromtimestamp(stamp, UTC) if stamp is not None else None
    return WatchedCall(**values)


def _histogram_json(histogram: Mapping[int, int]) -> dict[str, int]:
    return {str(seconds): n for seconds, n in sorted(histogram.items()) if n}


def _histogram_from_json(data: Mapping[str, int]) -> Counter[int]:
    return Counter({int(seconds): int(n) for seconds, n in data.items()})


_QUEUE_COUNTS = (
    "answered",
    "abandoned",
    "unresolved",
    "cdr_offered",
    "cdr_answered",
    "cdr_abandoned",
)


def _queue_json(day: QueueDay) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(day, name) for name in _QUEUE_COUNTS}
    data["answered_waits"] = _histogram_json(day.answered_waits)
    data["abandoned_waits"] = _histogram_json(day.abandoned_waits)
    data["corrected_at"] = _time(day.corrected_at)
    return data


def _queue_from_json(data: Mapping[str, Any]) -> QueueDay:
    return QueueDay(
        **{name: int(data[name]) for name in _QUEUE_COUNTS},
        answered_waits=_histogram_from_json(data["answered_waits"]),
        abandoned_waits=_histogram_from_json(data["abandoned_waits"]),
        corrected_at=_parse_time(data["corrected_at"]),
    )
