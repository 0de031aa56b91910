"""The live call model and the diff between two polls. Pure functions, no I/O.

A live call is known by its `channel` while it is on the line; the first poll that sees it also
gives it a `key` that lasts beyond it (the history's `TrackedCall`, which the call's CDR row joins).
The PBX reports an elapsed `duration` that changes on every poll; we turn it into a start time the
first time a call is seen and keep that, so ticking time never counts as a change and browsers
tick the clock themselves.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter

from calls.pbx import MAX_ELAPSED_SECONDS, ActiveCall, Direction
from calls.pbx.parties import direction_of, outside_party
from customers.phones import display_number

_QUEUE = re.compile(r"Kuyruk\s*\(\s*(\d+)\s*\)", re.IGNORECASE)
# A change in any of these is news for the browser; `src` and `dst` identify who talks to whom.
WATCHED_FIELDS = ("src", "dst", "calltype", "callinfo")
_watched = attrgetter(*WATCHED_FIELDS)
# `callinfo` is the PBX's free text: Turkish (`Çalıyor`), or English on some builds.
_RINGING = re.compile(r"çal[ıi]yor|ringing", re.IGNORECASE)
# Someone picked up. Only talking counts: `Beklemede` (on hold) also means "waiting" in Turkish,
# and a PBX that used it for callers waiting in a queue would make every queued call answered.
_TALKING = re.compile(r"konu[şs]uyor|talking", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """The customer a call's outside party belongs to; `more` counts other customers sharing it."""

    id: int
    name: str
    company: str
    url: str
    more: int = 0


@dataclass(frozen=True, slots=True)
class LiveCall:
    channel: str
    key: str  # lasting identity: uuid4 hex
    src: str
    dst: str
    calltype: str
    callinfo: str
    queue: str | None
    direction: Direction
    started_at: datetime
    src_display: str
    dst_display: str
    customer: CustomerMatch | None = None

    @property
    def outside_number(self) -> str | None:
        """The number to match against customers, as the PBX wrote it (`calls.pbx.parties`)."""
        return outside_party(self.direction, self.src, self.dst)

    @property
    def ringing(self) -> bool:
        """Whether the phone is ringing (browsers order rows and open screen-pops by it)."""
        return is_ringing(self.callinfo)


@dataclass(frozen=True, slots=True)
class CallsDiff:
    """What changed between two polls, and the complete new set of calls keyed by channel."""

    added: list[LiveCall] = field(default_factory=list)
    changed: list[LiveCall] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    calls: dict[str, LiveCall] = field(default_factory=dict)

    def with_customers(self, matches: Mapping[str, CustomerMatch]) -> CallsDiff:
        """Attach customers (keyed by the raw outside number) to calls that have none yet.

        A call that was neither added nor changed but gains a customer (added to the database
        during the call) becomes a change, so panels show the new name.
        """
        calls, gained = {}, set()
        for channel, call in self.calls.items():
            match = matches.get(call.outside_number or "")
            if match is not None and call.customer is None:
                call = replace(call, customer=match)
                gained.add(channel)
            calls[channel] = call
        added_channels = {c.channel for c in self.added}
        changed_channels = [c.channel for c in self.changed]
        changed_channels += sorted(gained - added_channels - set(changed_channels))
        return CallsDiff(
            added=[calls[c.channel] for c in self.added],
            changed=[calls[channel] for channel in changed_channels],
            removed=self.removed,
            calls=calls,
        )

    def with_keys(self, keys: Mapping[str, str]) -> CallsDiff:
        """The added calls on these channels get these keys (the ones they had before a fresh
        live state saw them anew)."""
        if not keys:
            return self
        calls = {
            channel: replace(call, key=keys[channel]) if channel in keys else call
            for channel, call in self.calls.items()
        }
        return CallsDiff(
            added=[calls[c.channel] for c in self.added],
            changed=[calls[c.channel] for c in self.changed],
            removed=self.removed,
            calls=calls,
        )

    def numbers_to_match(self, *, all_unknown: bool = False) -> set[str]:
        """Outside numbers without a customer: of added and changed calls, or of every call."""
        calls = self.calls.values() if all_unknown else self.added + self.changed
        return {c.outside_number for c in calls if c.customer is None and c.outside_number}


def queue_of(calltype: str) -> str | None:
    """`Kuyruk(630)` → `"630"`; anything else → None."""
    match = _QUEUE.search(calltype)
    return match.group(1) if match else None


def is_ringing(callinfo: str) -> bool:
    """Whether the PBX's call state means the phone is ringing: `Çalıyor`, `Ringing`."""
    return _RINGING.search(callinfo) is not None


def is_talking(callinfo: str) -> bool:
    """Whether the PBX's call state says the call was answered and is being talked on:
    `Konuşuyor`, `Talking`. Ringing, queued, on hold and unknown states are not."""
    return _TALKING.search(callinfo) is not None


def _bounded_elapsed(elapsed: int | None) -> int:
    # The client already refuses absurd durations; an ActiveCall built elsewhere must not be able
    # to push the start time out of the calendar (OverflowError) or into the future either.
    return min(max(elapsed or 0, 0), MAX_ELAPSED_SECONDS)


def new_call_key() -> str:
    return uuid.uuid4().hex


def to_live_call(call: ActiveCall, now: datetime, key: str) -> LiveCall:
    """A call seen for the first time: its start is now minus the elapsed time the PBX reports."""
    return LiveCall(
        channel=call.channel,
        key=key,
        src=call.src,
        dst=call.dst,
        calltype=call.calltype,
        callinfo=call.callinfo,
        queue=queue_of(call.calltype),
        direction=direction_of(call.src, call.dst),
        started_at=now - timedelta(seconds=_bounded_elapsed(call.elapsed)),
        src_display=display_number(call.src),
        dst_display=display_number(call.dst),
    )


def diff_calls(
    previous: Mapping[str, LiveCall],
    fetched: Sequence[ActiveCall],
    now: datetime,
    new_key: Callable[[], str] = new_call_key,
) -> CallsDiff:
    """Compare the last snapshot with what the PBX just reported.

    - added: channels not seen before (start time derived from the elapsed duration, a new key);
    - changed: a watched field differs; the key, the start time and, if the outside party is
      unchanged, the customer are kept;
    - removed: channels that are gone.
    A channel listed twice by the PBX counts once (the last row wins).
    """
    current: dict[str, ActiveCall] = {call.channel: call for call in fetched}
    added, changed, calls = [], [], {}
    for channel, call in current.items():
        before = previous.get(channel)
        if before is None:
            live = to_live_call(call, now, new_key())
            added.append(live)
        elif _watched(call) != _watched(before):
            if call.src == before.src and call.dst == before.dst:
                # The same parties, in a new state or queue: their numbers, the direction and the
                # customer stay as they were read (reading numbers is most of a new call's cost).
                live = replace(
                    before,
                    calltype=call.calltype,
                    callinfo=call.callinfo,
                    queue=queue_of(call.calltype),
                )
            else:
                live = replace(
                    to_live_call(call, now, before.key),
                    started_at=before.started_at,
                    customer=before.customer,
                )
                if live.outside_number != before.outside_number:
                    live = replace(live, customer=None)
            changed.append(live)
        else:
            live = before
        calls[channel] = live
    removed = [channel for channel in previous if channel not in current]
    return CallsDiff(added=added, changed=changed, removed=removed, calls=calls)
