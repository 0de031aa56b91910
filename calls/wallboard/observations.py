"""One poll's calls, observed: who waits, who was answered, who left, folded into today's counters.

`observe` is pure: it takes the state the last poll left, the poll's time and calls and whether
the PBX answered, and returns a new state (or, asked to, changes the given one in place), the
calls that left in this poll and those it added or changed. The rules it keeps (docs/wallboard.md,
in short):

- a call *waits* from the first poll that sees it in a queue (`Kuyruk(N)`) until the first poll
  that sees it talking (*answered*) or no longer sees it (*abandoned*): waits are accurate to
  one poll interval;
- a failed poll changes nothing: no call is answered or gone because the PBX did not answer;
- a *gap* (a failed poll, no good poll for more than three intervals, or no state at all) makes
  what happened within it unknown: a wait that began or ended in a gap is not measured (the call
  still counts by its known outcome); a call waiting before a gap and gone after it is
  *unresolved* (maybe answered, maybe abandoned); a call talking before a gap and gone after it
  is taken to have ended at the last poll that saw it. Such calls are flagged `uncertain`, and
  the CDR correction (`calls.wallboard.correction`) settles the day's counts;
- the counters belong to the local day (TIME_ZONE) of the poll that folds a call into them:
  a wait on the day it ends, talk time on the day it is talked (a call across midnight is cut
  at midnight).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Protocol

from django.utils import timezone

from calls.live.diff import is_talking
from calls.pbx import Direction
from calls.pbx.parties import EXTENSION_FIELD
from calls.wallboard.state import WallboardState, WatchedCall, whole_seconds
from customers.phones import is_extension

# A good poll more than this many intervals after the last good one follows a gap: the browser's
# silence watchdog and the board's staleness use the same three intervals.
GAP_AFTER_POLLS = 3


class PolledCall(Protocol):
    """What the wallboard needs of a live call (`calls.live.diff.LiveCall` is one)."""

    @property
    def key(self) -> str: ...
    @property
    def src(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def callinfo(self) -> str: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def direction(self) -> Direction: ...


@dataclass(frozen=True, slots=True)
class FinishedCall:
    """A call that left the line in this poll, with what it was counted as.

    `outcome`: `answered`, `abandoned`, `unresolved` (left during a gap while waiting) for calls
    that waited in a queue, `ended` for the others. `wait_seconds` is None when not measured.
    """

    key: str
    queue: str | None
    outcome: str
    src: str
    dst: str
    ended_at: datetime
    wait_seconds: int | None
    talk_seconds: float
    uncertain: bool


@dataclass(frozen=True, slots=True)
class Observed:
    state: WallboardState
    finished: list[FinishedCall] = field(default_factory=list)
    # The keys of the calls on the line that this poll added or changed: a store of the state
    # writes only these again (and drops the finished).
    changed: list[str] = field(default_factory=list)
    # The extensions whose calls or day this poll changed (None: any may have, a new day began):
    # the others' tiles are as the poll before left them.
    extensions: set[str] | None = field(default_factory=set)


def observe(
    state: WallboardState | None,
    now: datetime,
    calls: Iterable[PolledCall],
    *,
    pbx_ok: bool,
    poll_interval: float = 2.0,
    tz: tzinfo | None = None,
    in_place: bool = False,
) -> Observed:
    """The wallboard after one poll at `now` (see the module docstring for the rules).

    `calls` are the poll's live calls (ignored when `pbx_ok` is false: the last good ones are
    what the board keeps); `poll_interval` is TELSAM_POLL_INTERVAL, which tells a late poll from
    a gap; `tz` the day's time zone (TIME_ZONE by default). `state` is left as it was, unless
    `in_place`: a caller that owns it and keeps only the result saves copying every call on the
    line after every poll.
    """
    if state is None:
        state = WallboardState()
    elif not in_place:
        state = state.copy()
    new_day = _roll_over(state, local_midnight(now, tz))
    state.last_poll_at = now
    if not pbx_ok:
        state.pbx_ok = False
        return Observed(state, extensions=None if new_day else set())
    continuous = (
        state.pbx_ok
        and state.last_ok_at is not None
        and now - state.last_ok_at <= timedelta(seconds=GAP_AFTER_POLLS * poll_interval)
    )
    seen = set()
    changed = []
    extensions: set[str] = set()
    for call in calls:
        seen.add(call.key)
        watched = state.calls.get(call.key)
        if watched is not None and watched.seen_as is call:
            continue  # most calls, most polls: as the last poll folded them in
        # (A change of parties frees the former ones: `_see` gives the call a new list.)
        parties_before = watched.parties if watched is not None else ()
        if _see(state, now, call, watched, continuous):
            changed.append(call.key)
            extensions.update(parties_before, state.calls[call.key].parties)
    finished = []
    for key, watched in list(state.calls.items()):
        if key not in seen:
            finished.append(_leave(state, now, watched, continuous))
            extensions.update(watched.parties)
            del state.calls[key]
    state.pbx_ok = True
    state.last_ok_at = now
    return Observed(state, finished, changed, None if new_day else extensions)


def extensions_of(src: str, dst: str, queues: Iterable[str | None]) -> list[str]:
    """The extensions on a call: its parties that are extensions, but not a queue's number (a
    queued call's `dst` is its queue while it waits)."""
    not_extensions = set(queues)
    parties = [n for n in (src, dst) if is_extension(n) and n not in not_extensions]
    return list(dict.fromkeys(parties))


def _see(
    state: WallboardState,
    now: datetime,
    call: PolledCall,
    watched: WatchedCall | None,
    continuous: bool,
) -> bool:
    """Fold one call of a good poll into the state (`watched`: as the polls saw it so far);
    whether its watched call is new or changed."""
    changed = watched is None
    if watched is None:
        watched = WatchedCall(
            key=call.key,
            src=call.src,
            dst=call.dst,
            direction=str(call.direction),
            first_seen=now,
            parties_since=now,
            parties=extensions_of(call.src, call.dst, (call.queue,)),
            uncertain=not continuous,
        )
        state.calls[call.key] = watched
    elif call.src != watched.src or call.dst != watched.dst:
        _change_parties(state, now, watched, call)
        changed = True
    if watched.answered_at is None:
        if call.queue is not None and call.queue != watched.queue:
            if watched.queue is None:
                watched.queued_at = now
                watched.wait_start_seen = continuous
            # Moved to another queue while waiting: it counts once, in the last one; its wait
            # runs on from the first queue.
            watched.queue = call.queue
            changed = True
        if is_talking(call.callinfo):
            _answer(state, now, watched, continuous)
            changed = True
    watched.seen_as = call
    return changed


def _change_parties(
    state: WallboardState, now: datetime, watched: WatchedCall, call: PolledCall
) -> None:
    """A queued call now ringing an agent, or a call transferred: the old extensions' part ends
    here (their talk time is theirs), the new ones' begins."""
    parties = extensions_of(call.src, call.dst, (call.queue, watched.queue))
    if watched.talking_since is not None:
        _fold_talk(state, watched, now)
    for extension in set(watched.parties) - set(parties):
        state.extension_day(extension).free_since = now
    watched.src, watched.dst = call.src, call.dst
    watched.direction = str(call.direction)
    watched.parties = parties
    watched.parties_since = now


def _answer(state: WallboardState, now: datetime, watched: WatchedCall, continuous: bool) -> None:
    watched.answered_at = now
    if not continuous:
        watched.uncertain = True
    if watched.queue is not None:
        day = state.queue_day(watched.queue)
        day.answered += 1
        watched.wait_seconds = _measured_wait(watched, now, continuous)
        if watched.wait_seconds is not None:
            day.answered_waits[watched.wait_seconds] += 1
    # The agent's side picked up (EXTENSION_FIELD); on an outbound call that is the caller, and
    # it was the outside party who answered.
    if Direction(watched.direction) is not Direction.OUT:
        agent = getattr(watched, EXTENSION_FIELD[Direction(watched.direction)])
        if agent in watched.parties:
            state.extension_day(agent).answered += 1


def _leave(
    state: WallboardState, now: datetime, watched: WatchedCall, continuous: bool
) -> FinishedCall:
    # After a gap the call may have ended at any moment of it: the last poll that saw it is the
    # one moment we know it was still there, so a talk is not stretched over an outage. That is
    # the last good poll: a good poll drops every call it does not list, so each call still
    # watched was seen by it.
    ended_at = now if continuous else state.last_ok_at
    uncertain = watched.uncertain or not continuous
    wait = None
    talk = 0.0
    if watched.waiting:
        day = state.queue_day(watched.queue)
        if continuous:
            outcome = "abandoned"
            day.abandoned += 1
            wait = _measured_wait(watched, now, continuous)
            if wait is not None:
                day.abandoned_waits[wait] += 1
        else:
            outcome = "unresolved"
            day.unresolved += 1
    else:
        if watched.queue is not None:
            outcome = "answered"
            wait = watched.wait_seconds
        else:
            outcome = "ended"
        if watched.talking_since is not None:
            talk = _fold_talk(state, watched, ended_at)
    for extension in watched.parties:
        state.extension_day(extension).free_since = ended_at
    return FinishedCall(
        key=watched.key,
        queue=watched.queue,
        outcome=outcome,
        src=watched.src,
        dst=watched.dst,
        ended_at=ended_at,
        wait_seconds=wait,
        talk_seconds=talk,
        uncertain=uncertain,
    )


def _measured_wait(watched: WatchedCall, end: datetime, continuous: bool) -> int | None:
    """The wait in whole seconds, or None unless the polls saw both its start and its end."""
    if not (continuous and watched.wait_start_seen) or watched.queued_at is None:
        return None
    return whole_seconds((end - watched.queued_at).total_seconds())


def _fold_talk(state: WallboardState, watched: WatchedCall, until: datetime) -> float:
    """Add the current extensions' talk up to `until` to their day (from midnight at the
    earliest: yesterday's part of a call is not today's talk time)."""
    since = max(watched.talking_since, state.day_start)
    seconds = max((until - since).total_seconds(), 0.0)
    for extension in watched.parties:
        state.extension_day(extension).talk_seconds += seconds
    return seconds


def local_midnight(now: datetime, tz: tzinfo | None = None) -> datetime:
    """The start of the wallboard's day that `now` is in: local midnight (TIME_ZONE)."""
    tz = tz or timezone.get_default_timezone()
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


def _roll_over(state: WallboardState, midnight: datetime) -> bool:
    """A new day: the counters start at zero; the calls on the line and the extensions' free
    since stay. Whether it began."""
    if state.day_start == midnight:
        return False
    state.day_start = midnight
    state.queues = {}
    state.extensions = {
        name: type(day)(free_since=day.free_since) for name, day in state.extensions.items()
    }
    return True
