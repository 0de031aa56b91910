"""The calls the poller saw (`TrackedCall`): noted at first sight, joined to their CDR row.

The poller notes each call when it first sees it and closes the note when the call leaves
(`note_live_calls`); a row new to the history joins the call it belongs to
(`join_new_rows`, by the rule of `calls.history.joining`). Until then the call awaits its row:
the periodic sync asks for a narrow window around its start (`lookup_windows`), at the first sync
after it ends and then less and less often (BACKOFF). A call whose row a lookup that succeeded a
day or more after its end did not find is given up on (`give_up_old_waits`): it stays, known only
from the live panel. Why the waits are built this way: `calls.history.cdr_sync`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.db import DatabaseError, transaction
from django.db.models import Count, F, Min, Q

from calls.history.joining import join, join_tolerance
from calls.history.spans import in_words
from calls.models import CallRecord, TrackedCall, clip_to_column
from calls.pbx import CdrRecord
from telsam_panel.redact import redact

logger = logging.getLogger(__name__)

# How far around a call's start a lookup asks (the CDR action counts in whole minutes).
LOOKUP_MARGIN = timedelta(minutes=2)
# How long a call's row is waited for after the call ended.
AWAIT_FOR = timedelta(days=1)
# When after its end the periodic sync asks for a call's row (most come at once; a row that
# has not come in half an hour is the hourly sweep's to find): one good lookup each.
BACKOFF = tuple(timedelta(minutes=m) for m in (0, 2, 10, 30))
# Lookup requests per periodic run at most (the others are next in line on the next run), and
# the span one asks for at most, as one window of the sync does.
LOOKUPS_PER_RUN = 6
MAX_LOOKUP_SPAN = timedelta(hours=1)

_AWAITING = Q(record__isnull=True, given_up_at__isnull=True)


class SeenCall(Protocol):
    """What the history needs of a live call (`calls.live.diff.LiveCall` is one)."""

    @property
    def key(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def src(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def started_at(self) -> datetime: ...


def _channel(text: str) -> str:
    return clip_to_column(TrackedCall, "channel", text)


def open_call_keys(channels: Iterable[str]) -> dict[str, str]:
    """The keys of the calls on these channels still noted as live, by channel: a fresh live
    state (Redis lost it) sees its calls anew and must give them back the keys they had."""
    by_clipped = {_channel(channel): channel for channel in channels}
    rows = TrackedCall.objects.filter(ended_at__isnull=True, channel__in=list(by_clipped))
    return {by_clipped[channel]: key.hex for channel, key in rows.values_list("channel", "key")}


def note_live_calls(
    live: Mapping[str, SeenCall],
    added: Sequence[SeenCall],
    removed: Sequence[str],
    *,
    fresh: bool,
    now: datetime,
) -> None:
    """Keep the notes in step with a good poll: note each call seen for the first time, and
    close (as ended `now`) every open note whose call is not in `live`: those of the calls that
    just left, and any a failed database or a lost live state left open. `fresh`: the previous
    state holds no good poll (Redis lost it, or the PBX failed since).

    The poller calls this after its broadcast; it touches the database only when calls come or
    go, or on a fresh state. A database error is logged, never raised: the live panel does not
    depend on the database, and the hourly sweep finds the rows of calls that ended within its
    day.
    """
    if not (fresh or added or removed):
        return
    try:
        with transaction.atomic():
            still_open = TrackedCall.objects.filter(ended_at__isnull=True)
            still_open.exclude(channel__in=[_channel(c) for c in live]).update(ended_at=now)
            if added:
                # A fresh live state sees calls anew whose note is open: the start it infers may
                # differ by a second, so the channel, not (channel, start), says it is the same.
                seen = still_open.filter(channel__in=[_channel(c.channel) for c in added])
                known = set(seen.values_list("channel", flat=True))
                TrackedCall.objects.bulk_create(
                    [
                        tracked_call_of(call)
                        for call in added
                        if _channel(call.channel) not in known
                    ],
                    ignore_conflicts=True,
                )
    except DatabaseError as exc:
        logger.warning(
            "Could not note %d new and %d ended calls for the history (the hourly sweep will "
            "store the rows of those that end within its day): %s",
            len(added),
            len(removed),
            redact(f"{type(exc).__name__}: {exc}"),
        )


def tracked_call_of(call: SeenCall) -> TrackedCall:
    """The (unsaved) row of a live call, as the poll notes it."""
    return TrackedCall(
        key=uuid.UUID(call.key),
        channel=_channel(call.channel),
        src=clip_to_column(TrackedCall, "src", call.src),
        dst=clip_to_column(TrackedCall, "dst", call.dst),
        queue=clip_to_column(TrackedCall, "queue", call.queue or ""),
        started_at=call.started_at,
    )


def join_new_rows(records: Sequence[CdrRecord]) -> int:
    """Join the calls awaiting their row to these rows, new to the history; returns how many.

    Only a row stored for the first time joins a call, so one row never joins two (windows
    overlap, and the sweep re-reads the day). That loses no join: a call's row is written when
    it ends, after the poller noted the call. A call still live counts too: a row means its
    call has ended, even if the poll that will see it leave has not run yet.
    """
    if not records:
        return 0
    tolerance = join_tolerance()
    low = min(record.calldate for record in records) - tolerance
    high = max(record.calldate for record in records) + tolerance
    waiting = list(TrackedCall.objects.filter(_AWAITING, started_at__gte=low, started_at__lte=high))
    if not waiting:
        return 0
    rows = [_ClippedRow.of(record) for record in records]
    pairs = join(rows, waiting, tolerance)
    if not pairs:
        return 0
    stored = CallRecord.objects.filter(pbx_id__in=[row.pbx_id for row, _ in pairs])
    record_pks = dict(stored.values_list("pbx_id", "pk"))
    joined = []
    for row, call in pairs:
        call.record_id = record_pks[row.pbx_id]  # stored by the same sync, just before
        joined.append(call)
    TrackedCall.objects.bulk_update(joined, ["record"])
    return len(joined)


@dataclass(frozen=True, slots=True)
class _ClippedRow:
    """A CDR row with its text as the history stores it, to compare with stored calls."""

    pbx_id: str
    src: str
    dst: str
    queue: str
    calldate: datetime

    @classmethod
    def of(cls, record: CdrRecord) -> _ClippedRow:
        return cls(
            pbx_id=record.id,
            src=clip_to_column(TrackedCall, "src", record.src),
            dst=clip_to_column(TrackedCall, "dst", record.dst),
            queue=clip_to_column(TrackedCall, "queue", record.queue),
            calldate=record.calldate,
        )


# --- lookups -------------------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    """The waits whose next lookup (BACKOFF) is due."""
    due = Q()
    for done, after in enumerate(BACKOFF):
        due |= Q(lookups=done, ended_at__lte=now - after)
    return _AWAITING & due


def lookup_windows(now: datetime) -> list[tuple[datetime, datetime, list[int]]]:
    """The windows to ask for, with the calls each looks up: one around the start of each call
    whose lookup is due, the least recently asked first, calls that started close together in
    one window, LOOKUPS_PER_RUN windows at most."""
    windows: list[tuple[datetime, datetime, list[int]]] = []
    queue = TrackedCall.objects.filter(_due(now)).order_by(
        F("looked_at").asc(nulls_first=True), "ended_at"
    )
    for call in queue.only("pk", "started_at")[: LOOKUPS_PER_RUN * 50]:
        low, high = call.started_at - LOOKUP_MARGIN, call.started_at + LOOKUP_MARGIN
        for index, (start, end, pks) in enumerate(windows):
            if max(high, end) - min(low, start) <= MAX_LOOKUP_SPAN:
                windows[index] = (min(low, start), max(high, end), [*pks, call.pk])
                break
        else:
            if len(windows) == LOOKUPS_PER_RUN:
                break
            windows.append((low, high, [call.pk]))
    return windows


def looked_up(pks: Sequence[int], now: datetime) -> None:
    """These calls' lookup succeeded (whether or not it found their row)."""
    TrackedCall.objects.filter(pk__in=pks).update(looked_at=now, lookups=F("lookups") + 1)


def swept(start: datetime, end: datetime, now: datetime) -> None:
    """A sweep's good window is a lookup of the ended calls that started in it."""
    TrackedCall.objects.filter(
        _AWAITING, ended_at__isnull=False, started_at__gte=start, started_at__lte=end
    ).update(looked_at=now)


def give_up_old_waits(now: datetime, sweep_span: timedelta) -> None:
    """Give up on the calls whose last good lookup, a day or more after the call ended, found
    no row, and those the periodic lookups are done with whose start the sweep (which reads
    `sweep_span` back) no longer reaches. Lookups that failed count for nothing (they leave
    `looked_at` and `lookups` alone)."""
    expired = TrackedCall.objects.filter(_AWAITING).filter(
        Q(looked_at__gte=F("ended_at") + AWAIT_FOR)
        | Q(lookups__gte=len(BACKOFF), started_at__lt=now - sweep_span)
    )
    count = expired.count()
    if count:
        oldest = expired.order_by("started_at").values_list("started_at", flat=True)[0]
        logger.warning(
            "Gave up waiting for the CDR rows of %d calls (the oldest started %s): the PBX had "
            "written none when last asked, %s after the call ended or beyond the sweep's %s; "
            "they stay as calls known only from the live panel",
            count,
            oldest.isoformat(timespec="seconds"),
            in_words(AWAIT_FOR),
            in_words(sweep_span),
        )
        expired.update(given_up_at=now)


def awaiting_summary() -> tuple[int, datetime | None]:
    """How many ended calls await their row, and when the longest-waiting of them ended."""
    waits = TrackedCall.objects.filter(_AWAITING, ended_at__isnull=False).aggregate(
        count=Count("pk"), oldest=Min("ended_at")
    )
    return waits["count"], waits["oldest"]
