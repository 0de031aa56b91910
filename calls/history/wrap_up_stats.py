"""Wrap-up codes for supervisors: how many calls were filed under each code, per day, per queue
and per extension, over the statistics page's days (docs/call-work.md).

Counted from the calls' work, not from the hourly roll-up: a code is picked after the call, and
a call known only from the live panel (its CDR row never came) has one too. A call's queue and
extension are its history row's when the CDR sync has joined it (the agent who answered), else
what the poll first saw.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from calls.history.records import day_bounds
from calls.models import CallWork, WrapUpCode


@dataclass(frozen=True)
class CodeRow:
    name: str
    counts: list[int]  # one per code of `WrapUpReport.codes`, in its order

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class WrapUpReport:
    codes: list[WrapUpCode]  # the codes used in the period, in the list's order
    per_day: list[CodeRow]
    per_queue: list[CodeRow]
    per_extension: list[CodeRow]


def wrap_up_report(first: date, last: date) -> WrapUpReport:
    start, end = day_bounds(first, last)
    works = CallWork.objects.filter(
        wrap_up__isnull=False, call__started_at__gte=start, call__started_at__lt=end
    ).annotate(
        day=TruncDate("call__started_at", tzinfo=timezone.get_current_timezone()),
        queue_name=Coalesce(NullIf(F("call__record__queue"), Value("")), F("call__queue")),
        extension=Coalesce(NullIf(F("call__record__dst"), Value("")), F("call__dst")),
    )
    groups = {
        group: list(works.values(group, "wrap_up").annotate(calls=Count("pk")))
        for group in ("day", "queue_name", "extension")
    }
    used = {row["wrap_up"] for rows in groups.values() for row in rows}
    codes = list(WrapUpCode.objects.filter(pk__in=used))
    column = {code.pk: index for index, code in enumerate(codes)}

    def rows(group: str, name=str) -> list[CodeRow]:
        counts: dict[object, list[int]] = defaultdict(lambda: [0] * len(codes))
        for row in groups[group]:
            counts[row[group]][column[row["wrap_up"]]] += row["calls"]
        ordered = sorted(counts, key=lambda key: (not key, str(key)))  # none ("—") last
        return [CodeRow(name(key) if key else "—", counts[key]) for key in ordered]

    return WrapUpReport(
        codes=codes,
        per_day=rows("day", name=lambda day: day.strftime("%d.%m.%Y")),
        per_queue=rows("queue_name"),
        per_extension=rows("extension"),
    )
