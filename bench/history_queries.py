"""Benchmark: the history page, its filters and the statistics with N call records in the database.

Fills the database with N records over 60 days (bulk insert, not timed), then times each query
REPEAT times and prints one JSON line per query with p50 and p95 in milliseconds.
Usage: python -m bench.history_queries sqlite|postgres ROWS
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.setup_django import fresh_database

REPEAT = 20
DAYS = 60
BATCH = 5000
FIRST_DAY = datetime(2026, 9, 29, tzinfo=UTC)


def fill(rows: int) -> None:
    """The records, and what the CDR sync maintains as it stores them."""
    insert_records(rows)
    first = FIRST_DAY
    # The CDR sync maintains the hourly roll-up as it stores calls; a bulk load rebuilds it.
    from calls.history.rollup import rebuild

    rebuild(first, first + timedelta(days=DAYS + 1))
    from calls.history.records import refresh_callbacks
    from calls.models import CallRecord

    numbers = list(CallRecord.objects.values_list("outside_number", flat=True).distinct())
    for start in range(0, len(numbers), 1000):
        refresh_callbacks(numbers[start : start + 1000])


def insert_records(rows: int) -> None:
    """N call records over DAYS days from FIRST_DAY, a fifth of them outbound (bulk insert)."""
    from calls.models import CallRecord

    first = FIRST_DAY
    step = timedelta(days=DAYS) / rows
    callers = max(1, rows // 5)
    batch = []
    for index in range(rows):
        number = f"9053{index * 7919 % callers:08d}"
        inbound = index % 5 != 0
        batch.append(
            CallRecord(
                pbx_id=f"bench-{index}",  # never one of the simulator's CDR ids
                calldate=first + index * step,
                direction="in" if inbound else "out",
                src=number if inbound else str(101 + index % 12),
                dst=str(101 + index % 12) if inbound else number,
                outside_number="+" + number,
                duration=float(30 + index % 300),
                disposition=("ANSWERED", "ANSWERED", "NO ANSWER", "BUSY")[index % 4],
                queue=("630", "631", "")[index % 3],
            )
        )
        if len(batch) == BATCH:
            CallRecord.objects.bulk_create(batch)
            batch = []
    CallRecord.objects.bulk_create(batch)


def timed(name: str, backend: str, rows: int, query) -> None:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        query()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    print(
        json.dumps(
            {
                "benchmark": "history_queries",
                "query": name,
                "backend": backend,
                "rows": rows,
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
            }
        ),
        flush=True,
    )


def main(backend: str, rows: int) -> None:
    fresh_database(backend)
    fill(rows)
    from django.db import connection

    if backend == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from django.core.paginator import Paginator

    from calls.history.records import HistoryFilterForm, pending_callbacks, totals
    from calls.history.stats import build_stats
    from calls.models import CallRecord

    last_day = datetime(2026, 11, 27).date()

    def history_page(**filters):
        form = HistoryFilterForm(
            {"date_from": last_day - timedelta(days=6), "date_to": last_day, **filters}
        )
        assert form.is_valid(), form.errors
        records = form.filter(CallRecord.objects.select_related("customer"))
        page = Paginator(records.order_by("-calldate", "-id"), 50).get_page(1)
        list(page)
        totals(records)

    timed("history: last 7 days, page 1 + totals", backend, rows, history_page)
    timed(
        "history: a number in any format",
        backend,
        rows,
        lambda: history_page(number="0532 000 12 34"),
    )
    timed(
        "history: missed inbound, queue 630",
        backend,
        rows,
        lambda: history_page(direction="in", disposition="NO ANSWER", queue="630"),
    )
    timed("stats: one day", backend, rows, lambda: build_stats(last_day, last_day))
    timed(
        "stats: seven days",
        backend,
        rows,
        lambda: build_stats(last_day - timedelta(days=6), last_day),
    )
    timed(
        "callbacks list",
        backend,
        rows,
        lambda: list(pending_callbacks(now=datetime(2026, 11, 28, tzinfo=UTC))[:500]),
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
