"""The columns of the call history and callbacks exports (`calls.history.exports` writes them)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from calls.history.exports import Table, all_at_once, newest_first
from calls.models import CallRecord, PendingCallback

HISTORY_COLUMNS = [
    "date",
    "direction",
    "caller",
    "callee",
    "customer",
    "duration_s",
    "result",
    "queue",
    "userfield",
    "wrap_up",
    "note",
]
CALLBACK_COLUMNS = ["number", "customer", "last_missed_call", "missed_calls"]
_DATE = "%Y-%m-%d %H:%M:%S"


def history_table(records: QuerySet[CallRecord]) -> Table:
    # The rows are written after the view has returned, when the middleware has put the time
    # zone back: take it now.
    zone = timezone.get_current_timezone()
    values = [
        "calldate",
        "direction",
        "src",
        "dst",
        "customer__name",
        "duration",
        "disposition",
        "queue",
        "userfield",
        "tracked_call__work__wrap_up__name_tr",
        "tracked_call__work__note",
    ]

    def row(record: tuple) -> list[object]:
        calldate, direction, src, dst, customer, duration, disposition, queue, *rest = record
        userfield, wrap_up, note = rest
        return [
            calldate.astimezone(zone).strftime(_DATE),
            direction,
            src,
            dst,
            customer or "",
            round(duration, 1),
            disposition,
            queue,
            userfield,
            wrap_up or "",
            note or "",
        ]

    return Table("calls", HISTORY_COLUMNS, newest_first(records, "calldate", values, row))


def callbacks_table(rows: list[PendingCallback]) -> Table:
    """The callbacks page's rows (with `customer_name` set by the view), as shown."""
    zone = timezone.get_current_timezone()
    return Table(
        "callbacks",
        CALLBACK_COLUMNS,
        all_at_once(
            [
                [
                    row.number,
                    row.customer_name,
                    row.last_missed_at.astimezone(zone).strftime(_DATE),
                    row.missed,
                ]
                for row in rows
            ]
        ),
    )
