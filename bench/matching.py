"""Benchmark: the customer lookup for all the numbers of one poll, with N customer numbers stored.

Fills the database with N customers, one mobile number each and a second (an office line) for
every tenth (bulk load, not timed: `executemany` on SQLite, `COPY` on PostgreSQL). Then times
`calls.live.matching.match_numbers` RUNS times, each with the numbers of a busy poll: 50 numbers as
the PBX sends them (country code, no plus), 30 of them customers', 15 strangers, 5 extensions or
withheld callers. Every run draws new numbers and starts with the normalisation cache empty, so
each is the worst case of a poll in which every caller is new. Also times the two halves apart:
normalising the numbers (`phonenumbers`) and the one database query.

Prints one JSON line. Usage: python -m bench.matching sqlite|postgres ROWS [RUNS]
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from datetime import UTC, datetime

from bench.setup_django import fresh_database

NUMBERS_PER_POLL = 50
KNOWN, STRANGERS = 30, 15  # the rest are extensions and withheld callers
SECOND_NUMBER_EVERY = 10
BATCH = 50_000
_MOBILE_PREFIXES = ("505", "506", "530", "532", "533", "535", "542", "543", "553", "555")


def number_of(index: int) -> str:
    """The index-th customer number: distinct, valid Turkish mobiles (E.164)."""
    prefix = _MOBILE_PREFIXES[index % len(_MOBILE_PREFIXES)]
    return f"+90{prefix}{index // len(_MOBILE_PREFIXES):07d}"


def rows(count: int):
    now = datetime(2026, 11, 1, tzinfo=UTC)
    customers, phones = [], []
    phone_id = 0
    for index in range(count):
        customer_id = index + 1
        customers.append((customer_id, f"Müşteri {index}", "Bench A.Ş.", "", "", now, now))
        phone_id += 1
        phones.append((phone_id, customer_id, number_of(index), ""))
        if index % SECOND_NUMBER_EVERY == 0:
            phone_id += 1
            phones.append((phone_id, customer_id, number_of(count + index), "iş"))
    return customers, phones


def fill(backend: str, count: int) -> int:
    from django.db import connection, transaction

    from customers.models import Customer, PhoneNumber

    customers, phones = rows(count)
    tables = {
        Customer._meta.db_table: (
            ["id", "name", "company", "email", "notes", "created_at", "updated_at"],
            customers,
        ),
        PhoneNumber._meta.db_table: (["id", "customer_id", "number", "label"], phones),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for table, (columns, values) in tables.items():
            if backend == "postgres":
                copy_rows(cursor, table, columns, values)
            else:
                marks = ", ".join("%s" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                for start in range(0, len(values), BATCH):
                    cursor.executemany(
                        sql,
                        [tuple(_sqlite(v) for v in row) for row in values[start : start + BATCH]],
                    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(phones)


def copy_rows(cursor, table: str, columns: list[str], values: list[tuple]) -> None:
    raw = cursor.cursor  # psycopg's own cursor, for COPY
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def _sqlite(value):
    return value.isoformat() if isinstance(value, datetime) else value


def poll_numbers(rng: random.Random, count: int) -> list[str]:
    """The numbers of one busy poll as the PBX writes them."""
    known = [number_of(rng.randrange(count)).lstrip("+") for _ in range(KNOWN)]
    # Strangers: numbers from a prefix no customer has.
    strangers = [f"90544{rng.randrange(10**7):07d}" for _ in range(STRANGERS)]
    others = [str(rng.randrange(101, 113)) for _ in range(NUMBERS_PER_POLL - KNOWN - STRANGERS)]
    others[0] = "anonymous"
    numbers = known + strangers + others
    rng.shuffle(numbers)
    return numbers


def main(backend: str, count: int, runs: int) -> None:
    fresh_database(backend)
    started = time.perf_counter()
    stored = fill(backend, count)
    fill_s = time.perf_counter() - started

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calls.live.matching import match_numbers
    from customers.matching import customers_by_number
    from customers.phones import from_pbx

    rng = random.Random(7)
    with CaptureQueriesContext(connection) as queries:
        match_numbers(poll_numbers(rng, count))  # warms the connection and the query plan
    total, normalise, query, matched = [], [], [], []
    for _ in range(runs):
        numbers = poll_numbers(rng, count)
        from_pbx.cache_clear()
        began = time.perf_counter()
        found = match_numbers(numbers)
        total.append(time.perf_counter() - began)
        matched.append(len(found))
        from_pbx.cache_clear()
        began = time.perf_counter()
        e164 = {n for n in (from_pbx(raw) for raw in numbers) if n}
        normalise.append(time.perf_counter() - began)
        began = time.perf_counter()
        customers_by_number(e164)
        query.append(time.perf_counter() - began)
    print(
        json.dumps(
            {
                "benchmark": "matching",
                "backend": backend,
                "rows": count,
                "phone_numbers": stored,
                "fill_s": round(fill_s, 1),
                "numbers_per_poll": NUMBERS_PER_POLL,
                "runs": runs,
                "queries_per_poll": len(queries.captured_queries),
                "matched_mean": round(sum(matched) / len(matched), 1),
                "p50_ms": _ms(total, 0.5),
                "p95_ms": _ms(total, 0.95),
                "p99_ms": _ms(total, 0.99),
                "normalise_p50_ms": _ms(normalise, 0.5),
                "query_p50_ms": _ms(query, 0.5),
                "query_p95_ms": _ms(query, 0.95),
            }
        ),
        flush=True,
    )


def _ms(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (seconds) in milliseconds."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * share))
    return round(ordered[rank - 1] * 1000, 2)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 200)
