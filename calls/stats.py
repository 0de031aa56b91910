"""Numbers for supervisors: calls per hour, answered vs missed, talk times, per queue and extension,
and the busiest hours of the week. Every figure is one grouped query, computed in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Avg, Case, CharField, Count, F, Max, Q, When
from django.db.models.functions import Cast, Substr, TruncHour
from django.utils import timezone

from calls.history import ANSWERED, MISSED, Totals, day_bounds, totals
from calls.models import CallRecord

HOURS = range(24)
_ANSWERED = Q(disposition=ANSWERED)
_MISSED = Q(disposition__in=MISSED)


@dataclass(frozen=True)
class HourRow:
    hour: int
    calls: int
    answered: int
    missed: int


@dataclass(frozen=True)
class GroupRow:
    name: str
    calls: int
    answered: int
    missed: int
    average_talk: float


@dataclass
class StatsReport:
    first: date
    last: date
    totals: Totals
    average_talk: float
    longest_talk: float
    per_hour: list[HourRow] = field(default_factory=list)
    per_queue: list[GroupRow] = field(default_factory=list)
    per_extension: list[GroupRow] = field(default_factory=list)
    week_days: list[date] = field(default_factory=list)
    heatmap: list[list[int]] = field(default_factory=list)  # [day][hour] → calls

    @property
    def busiest_hour_count(self) -> int:
        return max((row.calls for row in self.per_hour), default=0)

    @property
    def hours(self) -> range:
        return HOURS

    @property
    def heatmap_rows(self) -> list[tuple[date, list[int]]]:
        return list(zip(self.week_days, self.heatmap, strict=True))

    @property
    def heatmap_max(self) -> int:
        return max((max(row) for row in self.heatmap), default=0)


def build_stats(first: date, last: date) -> StatsReport:
    """Statistics of the calls between two days (both included), in the UI's time zone."""
    start, end = day_bounds(first, last)
    records = CallRecord.objects.filter(calldate__gte=start, calldate__lt=end)
    talk = records.filter(_ANSWERED).aggregate(average=Avg("duration"), longest=Max("duration"))

    by_hour: dict[int, dict[str, int]] = {}
    for bucket in _utc_hours(records, answered=True):
        counts = by_hour.setdefault(bucket["local"].hour, {"calls": 0, "answered": 0, "missed": 0})
        for name in counts:
            counts[name] += bucket[name]
    empty = {"calls": 0, "answered": 0, "missed": 0}
    per_hour = [HourRow(h, **by_hour.get(h, empty)) for h in HOURS]

    extension = Case(When(direction=CallRecord.Direction.OUT, then=F("src")), default=F("dst"))
    week_start, week_end = day_bounds(last - timedelta(days=6), last)
    week_days = [last - timedelta(days=6 - i) for i in range(7)]
    week = CallRecord.objects.filter(calldate__gte=week_start, calldate__lt=week_end)
    counts: dict[tuple[date, int], int] = {}
    for bucket in _utc_hours(week):
        key = (bucket["local"].date(), bucket["local"].hour)
        counts[key] = counts.get(key, 0) + bucket["calls"]
    return StatsReport(
        first=first,
        last=last,
        totals=totals(records),
        average_talk=talk["average"] or 0.0,
        longest_talk=talk["longest"] or 0.0,
        per_hour=per_hour,
        per_queue=_groups(records.exclude(queue=""), F("queue")),
        per_extension=_groups(records, extension),
        week_days=week_days,
        heatmap=[[counts.get((day, hour), 0) for hour in HOURS] for day in week_days],
    )


def _groups(records, key) -> list[GroupRow]:
    rows = (
        records.annotate(group=key)
        .values("group")
        .annotate(
            calls=Count("id"),
            answered=Count("id", filter=_ANSWERED),
            missed=Count("id", filter=_MISSED),
            average_talk=Avg("duration", filter=_ANSWERED),
        )
        .order_by("-calls", "group")
    )
    return [
        GroupRow(
            r["group"] or "—", r["calls"], r["answered"], r["missed"], r["average_talk"] or 0.0
        )
        for r in rows
    ]


def _utc_hours(records, *, answered: bool = False) -> list[dict]:
    """Counts per UTC hour, each with its local start time under "local".

    Grouping by the UTC hour is native in every database (PostgreSQL's date_trunc; on SQLite the
    first 13 characters of the stored UTC text), while grouping by a local hour needs a per-row
    time-zone conversion that SQLite runs in Python. Any zone with whole-hour offsets maps each
    UTC hour onto exactly one local hour, so converting the buckets afterwards is exact.
    """
    if connection.vendor == "sqlite":
        hour = Substr(Cast("calldate", CharField()), 1, 13)
    else:
        hour = TruncHour("calldate", tzinfo=UTC)
    counts = {"calls": Count("id")}
    if answered:
        counts |= {"answered": Count("id", filter=_ANSWERED), "missed": Count("id", filter=_MISSED)}
    zone = timezone.get_current_timezone()
    buckets = list(records.annotate(utc_hour=hour).values("utc_hour").annotate(**counts))
    for bucket in buckets:
        value = bucket.pop("utc_hour")
        if isinstance(value, str):
            value = datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
        bucket["local"] = value.astimezone(zone)
    return buckets
