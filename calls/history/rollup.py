"""The hourly roll-up behind the statistics (`CallHourStat`), rebuilt from the call records of the
hours that changed. Grouping is by UTC hour, native in every database; statistics convert the
buckets to local time afterwards (exact for zones with whole-hour offsets)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Max, Q, Sum, Value, When
from django.db.models.functions import Cast, Substr, TruncHour

from calls.history.records import ANSWERED, MISSED
from calls.models import CallHourStat, CallRecord
from calls.pbx.parties import EXTENSION_FIELD

_ANSWERED = Q(disposition=ANSWERED)
_MISSED = Q(disposition__in=MISSED)
# The agent's side of a call (the caller of an outbound one, else the callee), in SQL.
EXTENSION = Case(
    *(When(direction=way.value, then=F(field)) for way, field in EXTENSION_FIELD.items()),
    default=Value(""),
)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def utc_hour_expression():
    """The start of a record's UTC hour, computed by the database itself."""
    if connection.vendor == "sqlite":
        # Stored as UTC text: "2026-11-27 12" is the hour. (Django's TruncHour would run a Python
        # function per row on SQLite.)
        return Substr(Cast("calldate", CharField()), 1, 13)
    return TruncHour("calldate", tzinfo=UTC)


def _as_hour(value) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
    return value.astimezone(UTC)


def refresh_hours(hours: Iterable[datetime]) -> None:
    """Recompute the roll-up rows of these hours (UTC hour starts) from the call records."""
    hours = sorted({hour_of(h) for h in hours})
    if not hours:
        return
    records = CallRecord.objects.filter(
        calldate__gte=hours[0], calldate__lt=hours[-1] + timedelta(hours=1)
    )
    wanted = set(hours)
    rows = (
        records.annotate(bucket=utc_hour_expression(), extension=EXTENSION)
        .values("bucket", "direction", "queue", "extension")
        .annotate(
            n=Count("id"),
            n_answered=Count("id", filter=_ANSWERED),
            n_missed=Count("id", filter=_MISSED),
            talk=Sum("duration", filter=_ANSWERED),
            longest=Max("duration", filter=_ANSWERED),
        )
    )
    fresh = [
        CallHourStat(
            hour=_as_hour(row["bucket"]),
            direction=row["direction"],
            queue=row["queue"],
            extension=row["extension"] or "",
            calls=row["n"],
            answered=row["n_answered"],
            missed=row["n_missed"],
            talk_seconds=row["talk"] or 0.0,
            longest_talk=row["longest"] or 0.0,
        )
        for row in rows
    ]
    with transaction.atomic():
        CallHourStat.objects.filter(hour__in=wanted).delete()
        CallHourStat.objects.bulk_create([s for s in fresh if s.hour in wanted])


def rebuild(start: datetime, end: datetime) -> None:
    """Recompute every hour between two moments (after a bulk load, or to repair)."""
    hour = hour_of(start)
    while hour < end:
        batch = [hour + timedelta(hours=i) for i in range(24)]
        refresh_hours(h for h in batch if h < end)
        hour += timedelta(hours=24)
