"""The wallboard's figures, read from its state: per queue and in total, and per extension.

Pure: the state and the moment of reading in, plain frozen dataclasses out, each with `to_json`
for the push. The definitions (docs/wallboard.md): *offered* = answered + abandoned + unresolved
(calls whose wait ended today); *service level* = answered within the threshold / (answered +
abandoned − short abandons), of the waits the polls measured; a wait equal to the threshold is
within it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calls.wallboard.observations import GAP_AFTER_POLLS
from calls.wallboard.state import QueueDay, WallboardState, WatchedCall, merged
from customers.phones import display_number


@dataclass(frozen=True, slots=True)
class Staleness:
    """Whether the figures are out of date: the last poll failed, or no good poll came for more
    than three intervals (the poller stopped). `age_seconds`: since the last good poll."""

    stale: bool
    pbx_ok: bool
    last_ok_at: datetime | None
    age_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "stale": self.stale,
            "pbx_ok": self.pbx_ok,
            "last_ok_at": _iso(self.last_ok_at),
            "age_seconds": _round(self.age_seconds),
        }


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue: str | None  # None on the total row
    waiting: int
    longest_waiting_since: datetime | None  # the browser ticks the longest wait from it
    talking: int
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int  # of the abandoned, those left out of the service level
    unresolved: int
    answered_within_sl: int
    service_level: float | None  # percent; None when no measured call counts towards it
    average_wait: float | None  # seconds, every measured wait that ended today
    average_answer_wait: float | None  # seconds, answered calls only (speed of answer)
    longest_wait: int | None  # seconds, answered or abandoned
    corrected_at: datetime | None  # the CDR correction the counts include (total: the latest)

    def to_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "waiting": self.waiting,
            "longest_waiting_since": _iso(self.longest_waiting_since),
            "talking": self.talking,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "unresolved": self.unresolved,
            "answered_within_sl": self.answered_within_sl,
            "service_level": self.service_level,
            "average_wait": self.average_wait,
            "average_answer_wait": self.average_answer_wait,
            "longest_wait": self.longest_wait,
            "corrected_at": _iso(self.corrected_at),
        }


@dataclass(frozen=True, slots=True)
class QueueBoard:
    at: datetime
    sl_seconds: int
    short_abandon_seconds: int
    queues: list[QueueFigures]
    total: QueueFigures
    staleness: Staleness

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "sl_seconds": self.sl_seconds,
            "short_abandon_seconds": self.short_abandon_seconds,
            "queues": [row.to_json() for row in self.queues],
            "total": self.total.to_json(),
            **self.staleness.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    extension: str
    state: str  # free, ringing (it is called), dialling (it calls, no answer yet), talking
    since: datetime | None  # free: the end of its last call (None: none ended yet)
    party: str | None  # who is calling it, or whom it talks with / calls, as the PBX wrote it
    party_display: str | None
    queue: str | None
    call_key: str | None
    answered: int  # calls it picked up today
    # Today's talk, told so that a tile stays the same from poll to poll while its calls do
    # (the browser ticks it): `talk_seconds` up to `talk_since`, and from then on growing by
    # `talk_calls` seconds a second, one per call it talks on (0, None when it talks on none).
    talk_seconds: float
    talk_since: datetime | None
    talk_calls: int

    def talk_at(self, now: datetime) -> float:
        """Today's talk at `now`, the calls on the line included (what the browser shows)."""
        if self.talk_since is None:
            return self.talk_seconds
        return self.talk_seconds + self.talk_calls * max((now - self.talk_since).total_seconds(), 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "state": self.state,
            "since": _iso(self.since),
            "party": self.party,
            "party_display": self.party_display,
            "queue": self.queue,
            "call_key": self.call_key,
            "answered": self.answered,
            "talk_seconds": _round(self.talk_seconds),
            "talk_since": _iso(self.talk_since),
            "talk_calls": self.talk_calls,
        }


@dataclass(frozen=True, slots=True)
class ExtensionBoard:
    at: datetime
    extensions: list[ExtensionRow]
    staleness: Staleness

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "extensions": [row.to_json() for row in self.extensions],
            **self.staleness.to_json(),
        }


def staleness(state: WallboardState, now: datetime, poll_interval: float = 2.0) -> Staleness:
    if state.last_ok_at is None:
        return Staleness(stale=True, pbx_ok=state.pbx_ok, last_ok_at=None, age_seconds=None)
    age = (now - state.last_ok_at).total_seconds()
    late = age > GAP_AFTER_POLLS * poll_interval
    return Staleness(
        stale=late or not state.pbx_ok,
        pbx_ok=state.pbx_ok,
        last_ok_at=state.last_ok_at,
        age_seconds=max(age, 0.0),
    )


def queue_figures(
    state: WallboardState,
    now: datetime,
    sl_seconds: int,
    *,
    short_abandon_seconds: int = 0,
    poll_interval: float = 2.0,
    queues: Iterable[str] = (),
    sl_by_queue: Mapping[str, int] | None = None,
) -> QueueBoard:
    """Every queue with a call on the line or counted today (and those in `queues`, even
    empty), in numeric order, and the total. `sl_seconds`: the service-level threshold (a wait
    of exactly that counts as within), unless `sl_by_queue` has the queue's own (the total then
    counts each queue's calls by their queue's threshold); `short_abandon_seconds`: abandons with
    a shorter measured wait are left out of the service level (0: none are)."""
    thresholds = sl_by_queue or {}
    # One pass over the calls on the line (there may be thousands, every poll): when each
    # queue's waiting calls began waiting, and how many of its calls talk.
    waiting_since: dict[str, list[datetime]] = defaultdict(list)
    talking: Counter[str] = Counter()
    for call in state.calls.values():
        if call.queue is None:
            continue
        if call.answered_at is None:
            waiting_since[call.queue].append(call.queued_at)
        else:
            talking[call.queue] += 1
    names = set(queues) | set(state.queues) | set(waiting_since) | set(talking)
    ordered = sorted(names, key=lambda name: (len(name), name))
    days = {name: (day, thresholds.get(name, sl_seconds)) for name, day in state.queues.items()}
    rows = [
        _queue_row(
            name,
            [days[name]] if name in days else [],
            waiting_since.get(name, []),
            talking[name],
            short_abandon_seconds,
        )
        for name in ordered
    ]
    total = _queue_row(
        None,
        list(days.values()),
        [since for waiting in waiting_since.values() for since in waiting],
        sum(talking.values()),
        short_abandon_seconds,
    )
    return QueueBoard(
        at=now,
        sl_seconds=sl_seconds,
        short_abandon_seconds=short_abandon_seconds,
        queues=rows,
        total=total,
        staleness=staleness(state, now, poll_interval),
    )


def extension_board(
    state: WallboardState,
    now: datetime,
    extensions: Iterable[str] | None = None,
    *,
    poll_interval: float = 2.0,
    known: Iterable[str] = (),
    unchanged: Mapping[str, ExtensionRow] | None = None,
) -> ExtensionBoard:
    """A row per extension in `extensions`, or (None) every extension the wallboard has seen today
    or on the line and those `known` (the agents', the history's), in numeric order.

    `unchanged`: rows read from this state before, of extensions whose calls and day have not
    changed since (`Observed.extensions`), taken as they are: a row does not depend on `now`."""
    unchanged = unchanged or {}
    calls_of: dict[str, list[WatchedCall]] = defaultdict(list)
    for call in state.calls.values():
        for extension in call.parties:
            calls_of[extension].append(call)
    if extensions is None:
        names = set(state.extensions) | set(calls_of) | set(known)
    else:
        names = set(extensions)
    ordered = sorted(names, key=lambda name: (len(name), name))
    return ExtensionBoard(
        at=now,
        extensions=[
            unchanged.get(name) or _extension_row(state, name, calls_of.get(name, []))
            for name in ordered
        ],
        staleness=staleness(state, now, poll_interval),
    )


def _queue_row(
    name: str | None,
    days_and_thresholds: list[tuple[QueueDay, int]],
    waiting_since: list[datetime],
    talking: int,
    short_abandon_seconds: int,
) -> QueueFigures:
    days = [day for day, _ in days_and_thresholds]
    answered_waits = merged(day.answered_waits for day in days)
    abandoned_waits = merged(day.abandoned_waits for day in days)
    answered = sum(day.cdr_answered + day.answered for day in days)
    abandoned = sum(day.cdr_abandoned + day.abandoned for day in days)
    unresolved = sum(day.unresolved for day in days)
    # The CDR's offered may hold calls of another disposition than answered or abandoned
    # someday; it is the CDR's own count, not a sum.
    offered = sum(day.cdr_offered for day in days)
    offered += sum(day.answered + day.abandoned + day.unresolved for day in days)
    within = sum(
        n
        for day, sl_seconds in days_and_thresholds
        for seconds, n in day.answered_waits.items()
        if seconds <= sl_seconds
    )
    short = sum(n for seconds, n in abandoned_waits.items() if seconds < short_abandon_seconds)
    measured = _count(answered_waits) + _count(abandoned_waits) - short
    all_waits = answered_waits + abandoned_waits
    corrections = [day.corrected_at for day in days if day.corrected_at is not None]
    return QueueFigures(
        queue=name,
        waiting=len(waiting_since),
        longest_waiting_since=min(waiting_since, default=None),
        talking=talking,
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        unresolved=unresolved,
        answered_within_sl=within,
        service_level=round(100 * within / measured, 1) if measured else None,
        average_wait=_average(all_waits),
        average_answer_wait=_average(answered_waits),
        longest_wait=max(all_waits, default=None),
        corrected_at=max(corrections, default=None),
    )


def _extension_row(state: WallboardState, extension: str, calls: list[WatchedCall]) -> ExtensionRow:
    day = state.extensions.get(extension)
    talk = day.talk_seconds if day else 0.0
    # Each talk on the line counts from its start (from midnight at the earliest, as observe
    # folds it at the end); they are told from the latest of those starts on.
    starts = [
        max(call.talking_since, state.day_start or call.talking_since)
        for call in calls
        if call.talking_since is not None
    ]
    talk_since = max(starts, default=None)
    for start in starts:
        talk += (talk_since - start).total_seconds()
    current = None
    for call in calls:
        candidate = _on_call(call, extension)
        if current is None or candidate[:2] < current[:2]:
            current = candidate
    answered = day.answered if day else 0
    if current is None:
        return ExtensionRow(
            extension=extension,
            state="free",
            since=day.free_since if day else None,
            party=None,
            party_display=None,
            queue=None,
            call_key=None,
            answered=answered,
            talk_seconds=talk,
            talk_since=None,
            talk_calls=0,
        )
    _, since, state_name, call = current
    party = call.src if call.dst == extension else call.dst
    return ExtensionRow(
        extension=extension,
        state=state_name,
        since=since,
        party=party,
        party_display=display_number(party),
        queue=call.queue,
        call_key=call.key,
        answered=answered,
        talk_seconds=talk,
        talk_since=talk_since,
        talk_calls=len(starts),
    )


# When an extension is on several calls (call waiting, a consultation), the board shows the
# one that matters most: talking, then ringing, then dialling; the oldest of equals.
_STATE_ORDER = {"talking": 0, "ringing": 1, "dialling": 2}


def _on_call(call: WatchedCall, extension: str) -> tuple[int, datetime, str, WatchedCall]:
    if call.talking_since is not None:
        name, since = "talking", call.talking_since
    elif call.dst == extension:
        name, since = "ringing", call.parties_since
    else:
        name, since = "dialling", call.parties_since
    return _STATE_ORDER[name], since, name, call


def _count(histogram: Counter[int]) -> int:
    return sum(histogram.values())


def _average(histogram: Counter[int]) -> float | None:
    count = _count(histogram)
    if not count:
        return None
    return round(sum(seconds * n for seconds, n in histogram.items()) / count, 1)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _round(seconds: float | None) -> float | None:
    return round(seconds, 1) if seconds is not None else None
