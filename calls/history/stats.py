"""Numbers for supervisors: calls per hour, answered vs missed, talk times, per queue and extension,
and the busiest hours of the week, summed from the hourly roll-up (`calls.history.rollup`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from calls.history.records import Totals, day_bounds
from calls.models import CallHourStat

HOURS = range(24)


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
    def hours(self) -> range:
        return HOURS

    @property
    def heatmap_rows(self) -> list[tuple[date, list[int]]]:
        return list(zip(self.week_days, self.heatmap, strict=True))

    @property
    def heatmap_max(self) -> int:
        return max((max(row) for row in self.heatmap), default=0)


def build_stats(first: date, last: date) -> StatsReport:
    """Statistics of the calls between two days (both included), in the UI's time zone.

    Read from the hourly roll-up (`calls.history.rollup`): a week is at most a few thousand rows,
    summed here, however many calls it had.
    """
    zone = timezone.get_current_timezone()
    week_first = min(first, last - timedelta(days=6))
    start, end = day_bounds(week_first, last)
    range_start, _range_end = day_bounds(first, last)
    fields = (
        "hour",
        "queue",
        "extension",
        "calls",
        "answered",
        "missed",
        "talk_seconds",
        "longest_talk",
    )
    rows = CallHourStat.objects.filter(hour__gte=start, hour__lt=end).values_list(*fields)

    hourly = {h: [0, 0, 0] for h in HOURS}
    queues: dict[str, list[float]] = {}
    extensions: dict[str, list[float]] = {}
    week_days = [last - timedelta(days=6 - i) for i in range(7)]
    cells: dict[tuple[date, int], int] = {}
    calls = answered = missed = 0
    talk = longest = 0.0
    for hour, queue, extension, n, n_answered, n_missed, talk_seconds, longest_talk in rows:
        local = hour.astimezone(zone)
        if local.date() >= week_days[0]:
            cells[(local.date(), local.hour)] = cells.get((local.date(), local.hour), 0) + n
        if hour < range_start:
            continue  # only in the week of the heatmap, not in the chosen range
        calls, answered, missed = calls + n, answered + n_answered, missed + n_missed
        talk += talk_seconds
        longest = max(longest, longest_talk)
        bucket = hourly[local.hour]
        bucket[0], bucket[1], bucket[2] = (
            bucket[0] + n,
            bucket[1] + n_answered,
            bucket[2] + n_missed,
        )
        figures = (n, n_answered, n_missed, talk_seconds)
        if queue:
            _add(queues, queue, figures)
        _add(extensions, extension or "—", figures)
    return StatsReport(
        first=first,
        last=last,
        totals=Totals(calls, answered, missed, talk),
        average_talk=talk / answered if answered else 0.0,
        longest_talk=longest,
        per_hour=[HourRow(h, *hourly[h]) for h in HOURS],
        per_queue=_group_rows(queues),
        per_extension=_group_rows(extensions),
        week_days=week_days,
        heatmap=[[cells.get((day, hour), 0) for hour in HOURS] for day in week_days],
    )


def _add(groups: dict[str, list[float]], key: str, figures: tuple) -> None:
    group = groups.setdefault(key, [0, 0, 0, 0.0])
    for i, value in enumerate(figures):
        group[i] += value


def _group_rows(groups: dict[str, list[float]]) -> list[GroupRow]:
    rows = [
        GroupRow(name, int(n), int(ok), int(lost), talk / ok if ok else 0.0)
        for name, (n, ok, lost, talk) in groups.items()
    ]
    return sorted(rows, key=lambda row: (-row.calls, row.name))
