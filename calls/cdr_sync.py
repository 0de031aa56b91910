"""Call history: copy the PBX's call detail records (CDR) into `CallRecord`, idempotently.

The PBX's window bounds are undocumented (inclusive or not, maximum range), so we fetch overlapping
windows and upsert on the PBX's `id`: running a window twice changes nothing. A failed window is
not lost: the periodic sync starts from the end of the last window that succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from calls.history import refresh_callbacks
from calls.live_state import redis_client
from calls.models import CallRecord
from calls.rollup import refresh_hours
from calls.telsam import CdrRecord, Direction, TelsamClient, client_from_settings
from customers.linking import customers_for_numbers
from customers.phones import from_pbx

logger = logging.getLogger(__name__)

RECENT_WINDOW = timedelta(minutes=15)
LONGEST_CATCH_UP = timedelta(days=2)  # after a long outage, the rest is for `sync_cdr`
LAST_SYNCED_KEY = "telsam:cdr:last-synced"
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


@dataclass
class SyncSummary:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0

    def add(self, other: SyncSummary) -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated
        self.skipped += other.skipped


def outside_number(record: CdrRecord) -> str:
    """The outside party in E.164: the caller of an inbound call, the callee of an outbound one."""
    if record.direction is Direction.IN:
        raw = record.src
    elif record.direction is Direction.OUT:
        raw = record.dst
    else:
        return ""
    return from_pbx(raw) or ""


def sync_window(start: datetime, end: datetime, client: TelsamClient | None = None) -> SyncSummary:
    """Fetch one window from the PBX and upsert it. Raises `PbxError` if the PBX fails."""
    batch = (client or client_from_settings()).cdr(start, end)
    summary = store_records(batch.records)
    summary.fetched += len(batch.rejected)
    summary.skipped += len(batch.rejected)
    return summary


def store_records(records: Iterable[CdrRecord]) -> SyncSummary:
    """Upsert records on the PBX id in chunks (each one transaction), then bring the hourly
    statistics and the callbacks of what changed up to date, once for the whole batch."""
    summary, hours, numbers = SyncSummary(), set(), set()
    for chunk in _chunks(records, CHUNK):
        summary.add(_store_chunk(chunk, hours, numbers))
    refresh_hours(hours)
    for part in _chunks(numbers, CHUNK):  # bounded IN lists
        refresh_callbacks(part)
    return summary


def _store_chunk(records: list[CdrRecord], hours: set, numbers: set) -> SyncSummary:
    """Store one chunk; add the hours and numbers it touched to `hours` and `numbers`."""
    unique = {record.id: record for record in records}  # overlapping rows within one answer
    incoming = {pbx_id: _to_model(record) for pbx_id, record in unique.items()}
    links = customers_for_numbers({r.outside_number for r in incoming.values()} - {""})
    for row in incoming.values():
        row.customer_id = links.get(row.outside_number)
    with transaction.atomic():
        existing = {r.pbx_id: r for r in CallRecord.objects.filter(pbx_id__in=incoming)}
        new = [row for pbx_id, row in incoming.items() if pbx_id not in existing]
        changed = []
        touched_hours = {row.calldate for row in new}
        for pbx_id, stored in existing.items():
            fresh = incoming[pbx_id]
            if any(getattr(stored, f) != getattr(fresh, f) for f in _COMPARED_FIELDS):
                touched_hours |= {stored.calldate, fresh.calldate}
                for name in _COMPARED_FIELDS:
                    setattr(stored, name, getattr(fresh, name))
                stored.customer_id = fresh.customer_id
                changed.append(stored)
        _insert(new)
        CallRecord.objects.bulk_update(changed, [*_COMPARED_FIELDS, "customer"], batch_size=CHUNK)
    hours |= touched_hours
    numbers |= {row.outside_number for row in incoming.values()}
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
        direction=record.direction.value,
        src=record.src[:64],
        dst=record.dst[:64],
        outside_number=outside_number(record),
        duration=record.duration,
        disposition=record.disposition[:20],
        queue=record.queue[:20],
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


def sync_recent(client: TelsamClient | None = None, now: datetime | None = None) -> SyncSummary:
    """The periodic sync: the last 15 minutes, or back to the last success after a failure."""
    now = now or timezone.now()
    store = redis_client()
    raw = store.get(LAST_SYNCED_KEY)
    last_ok = datetime.fromisoformat(raw.decode()) if raw else None
    start = now - RECENT_WINDOW
    if last_ok is not None and last_ok - timedelta(minutes=1) < start:
        start = max(last_ok - timedelta(minutes=1), now - LONGEST_CATCH_UP)
    summary = sync_window(start, now, client)  # a PbxError leaves last-synced where it was
    store.set(LAST_SYNCED_KEY, now.isoformat())
    if summary.skipped:
        logger.warning("CDR sync skipped %d malformed rows", summary.skipped)
    return summary


def day_windows(first: datetime, last: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[first, last) in day-sized windows that overlap by a minute (bounds are undocumented)."""
    start = first
    while start < last:
        end = min(start + timedelta(days=1), last)
        yield start - timedelta(minutes=1), end
        start = end
