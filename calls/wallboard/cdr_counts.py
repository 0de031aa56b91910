"""Today's calls per queue in the CDR (`CallRecord`): the database side of the correction.

A row belongs to the day of its `calldate` (the call's start, local time) and to its `queue`;
`ANSWERED` is answered, any other disposition (`NO ANSWER`, `BUSY`, `FAILED`, …) a call the
queue did not answer.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, Q

from calls.models import CallRecord
from calls.wallboard.correction import QueueCounts


def cdr_queue_counts(day_start: datetime) -> dict[str, QueueCounts]:
    """Every queue's calls in the CDR on the day that starts at `day_start` (an aware local
    midnight, the wallboard state's `day_start`), in one query."""
    next_day = datetime.combine(day_start.date() + timedelta(days=1), time(0), day_start.tzinfo)
    rows = (
        CallRecord.objects.filter(calldate__gte=day_start, calldate__lt=next_day)
        .exclude(queue="")
        .values("queue")
        .annotate(
            offered=Count("id"),
            answered=Count("id", filter=Q(disposition=CallRecord.Disposition.ANSWERED)),
        )
        .order_by()
    )
    return {
        row["queue"]: QueueCounts(
            offered=row["offered"],
            answered=row["answered"],
            abandoned=row["offered"] - row["answered"],
        )
        for row in rows
    }
