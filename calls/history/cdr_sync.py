"""Call history: copy the PBX's call detail records (CDR) into `CallRecord`, idempotently.

The PBX's window bounds are undocumented (inclusive or not, maximum range), so we fetch overlapping
windows and upsert on the PBX's `id`: running a window twice changes nothing.

The PBX writes a call's row when the call ENDS, but a window selects rows by `calldate`, the call's
START. So the history is kept whole three ways (docs: README, "Call history"):

- the periodic sync (`sync_recent`, every TELSAM_CDR_SYNC_INTERVAL) reads on from where the last
  good window ended, in bounded windows, a few per run; after an outage of any length it catches
  up window by window and says how far behind it is. Where it stands lives in the database
  (`CdrSyncState`), which survives a Redis that keeps nothing on disk;
- the poller notes every call when it first sees it (`TrackedCall`, open while the call is live)
  and closes the note when the call leaves; the periodic sync asks for a narrow window around
  each ended call's start, at the first sync after it ends and then less and less often, until
  its row is found and joined to it (calls.history.tracked_calls): a 3-hour call is stored at the
  first sync after it ends. A row still missing after the last of those is the sweep's to find;
- the sweep (`sweep`, hourly) re-reads the last 24 hours, for rows the poll never saw (calls
  shorter than a poll interval) and rows the PBX wrote late.

`synced_until` cannot claim the rows of calls still in progress (dated before it, written later),
so those rows rest on the waits alone, and the waits are built to outlive any outage:

- a wait is opened at the call's first sight, so its start is in the database, not only in the
  live state in Redis. Whenever calls come or go, and on a fresh live state (Redis lost its
  data, or the first good poll after a run of failures), the poller closes the open wait of
  every call no longer live, as ended now: a call that ended while the whole stack was down, or
  whose end the database missed, is looked up all the same;
- a wait is given up only when a lookup that SUCCEEDED a day or more after the call ended found
  nothing (`looked_at` and `lookups` move only on a good answer, and a sweep's good window
  counts as a lookup of the calls that started in it): days of a failing CDR action give
  nothing up, and the first lookup after it comes back finds the row. A wait whose start has
  left the sweep's day once the periodic lookups are done is given up too: nothing asks for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import LockError

from calls.history.records import refresh_callbacks
from calls.history.rollup import refresh_hours
from calls.history.spans import in_words
from calls.history.tracked_calls import (
    awaiting_summary,
    give_up_old_waits,
    join_new_rows,
    looked_up,
    lookup_windows,
    swept,
)
from calls.models import CallRecord, CdrSyncState, clip_to_column
from calls.pbx import CdrRecord, PbxError, TelsamClient, client_from_settings
from calls.pbx.parties import direction_of, outside_number
from customers.linking import customers_for_numbers
from telsam_panel.redact import redact
from telsam_panel.redis_connection import redis_client

logger = logging.getLogger(__name__)

# Every periodic run re-reads at least this much, for short calls the poll never saw.
RECENT_WINDOW = timedelta(minutes=15)
# The longest span one request asks for, and how much consecutive windows overlap.
MAX_WINDOW = timedelta(hours=1)
OVERLAP = timedelta(minutes=1)
# The cursor's requests per run at most (the lookups of calls awaiting their row follow:
# `tracked_calls.LOOKUPS_PER_RUN`); each loop also stops when its task's time limit is near (see
# `request_budget`).
WINDOWS_PER_RUN = 12
# The sweep: how far back (how often: `sweep_every`).
SWEEP_SPAN = timedelta(hours=24)
# The sync, the sweep and a backfill never store at the same time (two inserts of one new row
# would collide on its unique PBX id); the lock outlives the tasks' hard time limits
# (`lock_timeout`). The sweep and a backfill wait for it this long; the periodic sync does not.
LOCK_KEY = "telsam:cdr:sync-lock"
LOCK_WAIT = 30
# Time limits: storing what one request brought takes at most this much; the tasks' soft time
# limits at the default API timeout; how far hard limits (and the lock) outlive soft ones.
STORE_MARGIN = 5.0
SYNC_TIME_LIMIT = 240.0
SWEEP_TIME_LIMIT = 290.0
GRACE = 30.0
SWEEP_TASK = "calls.sweep_cdr"
CHUNK = 5000
_COMPARED_FIELDS = (
    "calldate",
    "direction",
    "src",
    "dst",
    "outside_number",
    "duration",
    "disposition",
    "queue",
    "recorded",
    "userfield",
)


def request_budget() -> float:
    """The time one request may need: the client's deadline for a whole answer can overrun by
    one socket read (so twice TELSAM_API_TIMEOUT), plus storing what it brought. A loop starts
    no request with less than this left before its deadline."""
    return 2 * settings.TELSAM_API_TIMEOUT + STORE_MARGIN


def sync_time_limit() -> float:
    """The periodic sync task's soft time limit: room for three requests at the least."""
    return max(SYNC_TIME_LIMIT, 3 * request_budget())


def sweep_time_limit() -> float:
    """The sweep task's soft time limit: room for three requests at the least."""
    return max(SWEEP_TIME_LIMIT, 3 * request_budget())


def hard_time_limit(soft: float) -> float:
    """A task's hard time limit for a soft one: loops stop well before the soft limit anyway."""
    return soft + GRACE


def lock_timeout() -> float:
    """The store lock's expiry: longer than any task holding it may live, so it never expires
    under a live task, and a killed one frees it soon after."""
    return hard_time_limit(max(sync_time_limit(), sweep_time_limit())) + GRACE


def sweep_every() -> timedelta:
    """How often beat runs the sweep (its entry in CELERY_BEAT_SCHEDULE)."""
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == SWEEP_TASK]
    return timedelta(seconds=entry["schedule"])


def _time_for_a_request(deadline: float) -> bool:
    return time.monotonic() + request_budget() <= deadline


@dataclass
class SyncSummary:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    found: int = 0  # calls awaiting their row that got it

    def add(self, other: SyncSummary) -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated
        self.skipped += other.skipped
        self.found += other.found


def sync_window(start: datetime, end: datetime, client: TelsamClient | None = None) -> SyncSummary:
    """Fetch one window from the PBX, upsert it, and settle the calls awaiting a row it holds.
    Raises `PbxError` if the PBX fails."""
    batch = (client or client_from_settings()).cdr(start, end)
    new_ids: set[str] = set()
    summary = store_records(batch.records, new_ids)
    summary.fetched += len(batch.rejected)
    summary.skipped += len(batch.rejected)
    summary.found = join_new_rows([record for record in batch.records if record.id in new_ids])
    return summary


def store_records(records: Iterable[CdrRecord], new_ids: set[str] | None = None) -> SyncSummary:
    """Upsert records on the PBX id in chunks (each one transaction), then bring the hourly
    statistics and the callbacks of what changed up to date, once for the whole batch. The PBX
    ids of the rows stored for the first time are added to `new_ids`."""
    summary, hours, numbers = SyncSummary(), set(), set()
    new_ids = set() if new_ids is None else new_ids
    for chunk in _chunks(records, CHUNK):
        summary.add(_store_chunk(chunk, hours, numbers, new_ids))
    refresh_hours(hours)
    for part in _chunks(numbers, CHUNK):  # bounded IN lists
        refresh_callbacks(part)
    return summary


def _store_chunk(records: list[CdrRecord], hours: set, numbers: set, new_ids: set) -> SyncSummary:
    """Store one chunk; add the hours and numbers it touched to `hours` and `numbers`, the ids
    of its new rows to `new_ids`."""
    unique = {record.id: record for record in records}  # overlapping rows within one answer
    incoming = {pbx_id: _to_model(record) for pbx_id, record in unique.items()}
    links = customers_for_numbers({r.outside_number for r in incoming.values()} - {""})
    for row in incoming.values():
        row.customer_id = links.get(row.outside_number)
    with transaction.atomic():
        existing = {r.pbx_id: r for r in CallRecord.objects.filter(pbx_id__in=incoming)}
        new = [row for pbx_id, row in incoming.items() if pbx_id not in existing]
        changed = []
        touched_hours, touched_numbers = {row.calldate for row in new}, set()
        for pbx_id, stored in existing.items():
            fresh = incoming[pbx_id]
            if any(getattr(stored, f) != getattr(fresh, f) for f in _COMPARED_FIELDS):
                touched_hours |= {stored.calldate, fresh.calldate}
                touched_numbers |= {stored.outside_number, fresh.outside_number}
                for name in _COMPARED_FIELDS:
                    setattr(stored, name, getattr(fresh, name))
                stored.customer_id = fresh.customer_id
                changed.append(stored)
        _insert(new)
        CallRecord.objects.bulk_update(changed, [*_COMPARED_FIELDS, "customer"], batch_size=CHUNK)
    hours |= touched_hours
    new_ids |= {row.pbx_id for row in new}
    # Only the numbers whose calls changed: the sweep re-reads a day of rows every hour, and
    # rebuilding every number's callbacks would race an agent marking one called back.
    numbers |= {row.outside_number for row in new} | touched_numbers
    return SyncSummary(fetched=len(records), new=len(new), updated=len(changed))


def _insert(rows: list[CallRecord]) -> None:
    """Insert new records the fastest way each database offers (measured: docs/benchmarks.md).

    PostgreSQL: `bulk_create`, which Django sends as one INSERT … UNNEST. SQLite: one
    `executemany`, as `bulk_create` spends most of a sync compiling its large statement; the
    values still go through each field's own database preparation, so what is stored is what the
    ORM would store.
    """
    if not rows:
        return
    if connection.vendor != "sqlite":
        CallRecord.objects.bulk_create(rows, batch_size=CHUNK)
        return
    fields = [f for f in CallRecord._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (quoted names, no user input)
        quote(CallRecord._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _to_model(record: CdrRecord) -> CallRecord:
    return CallRecord(
        pbx_id=record.id,
        calldate=record.calldate,
        direction=direction_of(record.src, record.dst).value,
        src=clip_to_column(CallRecord, "src", record.src),
        dst=clip_to_column(CallRecord, "dst", record.dst),
        outside_number=outside_number(record.src, record.dst),
        duration=record.duration,
        disposition=clip_to_column(CallRecord, "disposition", record.disposition),
        queue=clip_to_column(CallRecord, "queue", record.queue),
        recorded=record.record,
        userfield=record.userfield,
    )


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the periodic sync ---------------------------------------------------------------------------


def sync_recent(
    client: TelsamClient | None = None, now: datetime | None = None, deadline: float | None = None
) -> SyncSummary:
    """The periodic sync: read on from the last good window, then look for the calls awaiting
    their row (see the module docstring). No request starts too close to `deadline` (a
    `time.monotonic()` value; by default the task's soft time limit from now).

    Raises `PbxError` when the PBX fails: what was fetched before that stays fetched (each good
    window moves `CdrSyncState.synced_until`), and the next run goes on from there.
    """
    now = now or timezone.now()
    deadline = deadline or time.monotonic() + sync_time_limit()
    client = client or client_from_settings()
    # No waiting for the lock: a worker blocked here is one that cannot poll, and this runs
    # again in TELSAM_CDR_SYNC_INTERVAL anyway.
    with storing(wait=False) as locked:
        if not locked:
            logger.info(
                "CDR sync skipped: the sweep or another sync is storing (it runs again in %.0f s)",
                settings.TELSAM_CDR_SYNC_INTERVAL,
            )
            return SyncSummary()
        state = CdrSyncState.load(now)
        behind_before = _behind(state, now)
        summary = SyncSummary()
        try:
            summary.add(_read_on(state, client, now, deadline))
            summary.add(_look_for_awaited(client, now, deadline))
            give_up_old_waits(now, SWEEP_SPAN)
        except PbxError as exc:
            state.last_error, state.last_error_at = redact(str(exc))[:500], now
            state.save(update_fields=["last_error", "last_error_at"])
            logger.warning("CDR sync failed, %s behind: %s", in_words(_behind(state, now)), exc)
            raise
        state.last_ok_at, state.last_error = now, ""
        state.save(update_fields=["last_ok_at", "last_error"])
    _report(state, behind_before, now, summary)
    return summary


def _read_on(
    state: CdrSyncState, client: TelsamClient, now: datetime, deadline: float
) -> SyncSummary:
    """The cursor's windows: from just before the end of the last good one (never less than
    RECENT_WINDOW back), at most WINDOWS_PER_RUN of them and as many as the deadline leaves
    time for; the rest is for the next runs."""
    start = now - RECENT_WINDOW
    if state.synced_until is not None:
        start = min(start, state.synced_until - OVERLAP)
    summary = SyncSummary()
    for window_start, window_end in islice(bounded_windows(start, now), WINDOWS_PER_RUN):
        if not _time_for_a_request(deadline):
            break
        summary.add(sync_window(window_start, window_end, client))
        state.synced_until = max(window_end, state.synced_until or window_end)
        state.last_window_start = window_start
        state.save(update_fields=["synced_until", "last_window_start"])
    return summary


def bounded_windows(first: datetime, last: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[first, last] in windows of at most MAX_WINDOW, each starting OVERLAP before the previous
    one ended (the PBX's bounds are undocumented)."""
    start = first
    while True:
        end = min(start + MAX_WINDOW, last)
        yield start, end
        if end >= last:
            return
        start = end - OVERLAP


def _behind(state: CdrSyncState, now: datetime) -> timedelta | None:
    return None if state.synced_until is None else max(now - state.synced_until, timedelta(0))


def _report(
    state: CdrSyncState, behind_before: timedelta | None, now: datetime, summary: SyncSummary
) -> None:
    behind = _behind(state, now)
    if behind is not None and behind > RECENT_WINDOW:
        logger.warning(
            "CDR sync is %s behind (history complete up to %s): catching up, %d windows of %s "
            "a run",
            in_words(behind),
            state.synced_until.isoformat(timespec="minutes"),
            WINDOWS_PER_RUN,
            in_words(MAX_WINDOW),
        )
    elif behind_before is not None and behind_before > RECENT_WINDOW:
        logger.info("CDR sync caught up (it was %s behind)", in_words(behind_before))
    if summary.skipped:
        logger.warning("CDR sync skipped %d malformed rows", summary.skipped)


# --- calls awaiting their row ------------------------------------------------------------------


def _look_for_awaited(client: TelsamClient, now: datetime, deadline: float) -> SyncSummary:
    """Ask for the windows around the starts of the calls whose lookup is due
    (`tracked_calls.lookup_windows`), as many as the deadline leaves time for."""
    summary = SyncSummary()
    for start, end, pks in lookup_windows(now):
        if not _time_for_a_request(deadline):
            break
        summary.add(sync_window(start, end, client))
        looked_up(pks, now)
    return summary


# --- the sweep -----------------------------------------------------------------------------------


def sweep(
    client: TelsamClient | None = None, now: datetime | None = None, deadline: float | None = None
) -> SyncSummary:
    """Re-read the last SWEEP_SPAN in bounded windows (beat runs it every `sweep_every()`): the
    rows of calls the live poll never saw and rows the PBX wrote late.

    A pass that the deadline (as in `sync_recent`) or a PBX failure (`PbxError`, raised) cuts
    short leaves `CdrSyncState.sweep_cursor` where it stopped, and the next sweep goes on from
    there; `swept_at` moves only when a pass reaches the present.
    """
    now = now or timezone.now()
    deadline = deadline or time.monotonic() + sweep_time_limit()
    client = client or client_from_settings()
    summary = SyncSummary()
    with storing() as locked:
        if not locked:
            logger.info("CDR sweep skipped: another sync is storing")
            return summary
        state = CdrSyncState.load(now)
        first = now - SWEEP_SPAN - OVERLAP
        if state.sweep_cursor is not None:  # a pass cut short: on from there
            first = max(first, state.sweep_cursor - OVERLAP)
        for start, end in bounded_windows(first, now):
            if not _time_for_a_request(deadline):
                logger.info(
                    "CDR sweep stopped near its time limit at %s; the next sweep goes on from "
                    "there",
                    (state.sweep_cursor or first).isoformat(timespec="minutes"),
                )
                break
            summary.add(sync_window(start, end, client))
            swept(start, end, now)
            state.sweep_cursor = end
            state.save(update_fields=["sweep_cursor"])
        else:
            state.swept_at, state.sweep_cursor = now, None
            state.save(update_fields=["swept_at", "sweep_cursor"])
        give_up_old_waits(now, SWEEP_SPAN)
    if summary.new:
        logger.info("CDR sweep stored %d rows the periodic sync had not", summary.new)
    return summary


@contextmanager
def storing(wait: bool = True) -> Iterator[bool]:
    """Hold the store lock (see LOCK_KEY) while inside; yields whether it was acquired, after
    up to LOCK_WAIT seconds if `wait`, at once otherwise."""
    lock = redis_client().lock(LOCK_KEY, timeout=lock_timeout(), blocking_timeout=LOCK_WAIT)
    acquired = lock.acquire(blocking=wait)
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except LockError:
                logger.warning("A CDR sync outlived its lock (%.0f s)", lock_timeout())


# --- where the sync stands ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Where the call-history sync stands, for `manage.py doctor` and monitoring."""

    behind: timedelta | None  # None: no sync has run yet
    awaiting: int  # calls the poller saw end whose row has not been found yet
    oldest_awaiting_since: datetime | None  # when the longest-waiting of them ended
    last_window: tuple[datetime, datetime] | None  # the last window fetched successfully
    last_ok_at: datetime | None
    last_error: str  # redacted, but PBX text all the same: not for anonymous eyes
    swept_at: datetime | None
    stale: bool  # behind by more than `stale_after()`, or the sweep has stopped
    now: datetime  # when this was measured

    def describe(self) -> str:
        """One line in words (no PBX text)."""
        if self.behind is None:
            return (
                "no sync has run yet (beat starts one every "
                f"{settings.TELSAM_CDR_SYNC_INTERVAL:.0f} s)"
            )
        until = self.last_window[1] if self.last_window else None
        parts = [f"history complete up to {until:%Y-%m-%d %H:%M} UTC, {in_words(self.behind)} ago"]
        if self.behind > stale_after():
            parts[0] += " (catching up; is Celery beat and a worker running, the PBX answering?)"
        if self.awaiting == 1:
            parts.append("1 call awaiting its row")
        else:
            parts.append(f"{self.awaiting} calls awaiting their row")
        parts.append(
            "no sweep yet"
            if self.swept_at is None
            else f"last sweep {in_words(self.now - self.swept_at)} ago"
        )
        return "; ".join(parts)

    def as_dict(self) -> dict:
        """A JSON-ready summary (no PBX text)."""

        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "stale": self.stale,
            "behind_seconds": None if self.behind is None else round(self.behind.total_seconds()),
            "awaiting": self.awaiting,
            "oldest_awaiting_since": iso(self.oldest_awaiting_since),
            "last_window": None if self.last_window is None else [iso(m) for m in self.last_window],
            "last_ok_at": iso(self.last_ok_at),
            "swept_at": iso(self.swept_at),
        }


def stale_after() -> timedelta:
    """How far behind the sync may be before it counts as stopped: five runs missed."""
    return max(timedelta(seconds=5 * settings.TELSAM_CDR_SYNC_INTERVAL), RECENT_WINDOW)


def sync_status(now: datetime | None = None) -> SyncStatus:
    """Where the sync stands: the one answer for `doctor`, health and monitoring."""
    now = now or timezone.now()
    state = CdrSyncState.objects.filter(pk=1).first() or CdrSyncState()
    waiting, oldest_waiting = awaiting_summary()
    behind = _behind(state, now)
    # No sweep ever finished counts as stopped too, once the sync has run long enough for three.
    swept_or_began = state.swept_at or state.created_at
    sweep_stopped = state.pk is not None and now - swept_or_began > 3 * sweep_every()
    window = None
    if state.synced_until is not None:
        window = (state.last_window_start or state.synced_until, state.synced_until)
    return SyncStatus(
        behind=behind,
        awaiting=waiting,
        oldest_awaiting_since=oldest_waiting,
        last_window=window,
        last_ok_at=state.last_ok_at,
        last_error=state.last_error,
        swept_at=state.swept_at,
        stale=(behind is not None and behind > stale_after()) or sweep_stopped,
        now=now,
    )


def day_windows(first: datetime, last: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[first, last) in day-sized windows that overlap by a minute (bounds are undocumented)."""
    start = first
    while start < last:
        end = min(start + timedelta(days=1), last)
        yield start - timedelta(minutes=1), end
        start = end
