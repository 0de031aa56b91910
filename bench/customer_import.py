"""Benchmark: import a customer file of N rows the way the admin's import page does.

Builds a UTF-8 CSV file (or, with FORMAT `xlsx`, the same rows as an Excel workbook) like a call
centre's customer list (name, company, one mobile number, a second one for every tenth customer,
e-mail, a short note), then times, through the functions the admin's import view calls (read the
file, import it, record it in the audit trail and in each changed customer's history):

- `new`: the file into an empty customer table (every row a new customer);
- `unchanged`: the same file again (every row found by its number, nothing changes);
- `changed`: the file again with every tenth row's note edited (those rows updated).

Prints one JSON line per import: rows, file size, seconds, rows per second and per minute, SQL
queries per row, and the process's peak resident memory so far (what reading and importing a file
of that size costs the web process).

Usage: python -m bench.customer_import sqlite|postgres ROWS [csv|xlsx]
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time

from bench.cdr_sync import _max_rss_mb
from bench.setup_django import fresh_database

SECOND_NUMBER_EVERY = 10
CHANGED_EVERY = 10  # in the `changed` re-import
_MOBILE_PREFIXES = ("505", "506", "530", "532", "533", "535", "542", "543", "553", "555")


def national_number(index: int) -> str:
    """The index-th distinct Turkish mobile number, written as people type it."""
    prefix = _MOBILE_PREFIXES[index % len(_MOBILE_PREFIXES)]
    digits = f"{index // len(_MOBILE_PREFIXES):07d}"
    return f"0{prefix} {digits[:3]} {digits[3:5]} {digits[5:]}"


def customer_file(rows: int, *, changed_every: int = 0, file_format: str = "csv") -> bytes:
    header = ["name", "company", "phone", "email", "notes"]
    if file_format == "xlsx":
        import tablib

        return tablib.Dataset(*_rows(rows, changed_every), headers=header).export("xlsx")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(_rows(rows, changed_every))
    return out.getvalue().encode()


def _rows(rows: int, changed_every: int):
    for index in range(rows):
        phones = national_number(index)
        if index % SECOND_NUMBER_EVERY == 0:
            phones += "; " + national_number(rows + index)
        note = f"Müşteri {index}, aramalarda öncelikli"
        if changed_every and index % changed_every == 0:
            note += " (güncellendi)"
        yield [f"Ayşe Yılmaz {index}", f"Firma {index % 500} A.Ş.", phones, f"c{index}@example.com",
               note]  # fmt: skip


class QueryCounter:
    """Counts every SQL statement the connection runs (Django's own log keeps only 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def import_like_the_admin(name: str, content: bytes, user):
    """What `CustomerAdmin.import_view` does with an uploaded file."""
    from customers.importing import import_customers, read_dataset, record_import
    from customers.models import CustomerImport

    report = import_customers(read_dataset(name, content))
    record_import(report, file_name=name, source=CustomerImport.Source.ADMIN, user=user)
    return report


def main(backend: str, rows: int, file_format: str = "csv") -> None:
    fresh_database(backend)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from customers.models import Customer

    user = get_user_model().objects.create(username="bench", is_staff=True, is_superuser=True)
    original = customer_file(rows, file_format=file_format)
    name = f"customers.{file_format}"
    runs = [
        ("new", original, {"new": rows}),
        ("unchanged", original, {"unchanged": rows}),
        ("changed", customer_file(rows, changed_every=CHANGED_EVERY, file_format=file_format),
         {"updated": -(-rows // CHANGED_EVERY), "unchanged": rows - -(-rows // CHANGED_EVERY)}),
    ]  # fmt: skip
    print(json.dumps({"benchmark": "customer_import_start", "rss_mb": _max_rss_mb()}))
    for kind, content, expected in runs:
        counter = QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            report = import_like_the_admin(name, content, user)
        elapsed = time.perf_counter() - started
        got = {"new": report.new, "updated": report.updated, "unchanged": report.unchanged}
        assert not report.problems, report.problems[:5]
        assert all(got[k] == v for k, v in expected.items()), (kind, got, expected)
        assert Customer.objects.count() == rows
        print(
            json.dumps(
                {
                    "benchmark": "customer_import",
                    "backend": backend,
                    "format": file_format,
                    "import": kind,
                    "rows": rows,
                    "file_mb": round(len(content) / 2**20, 2),
                    "seconds": round(elapsed, 2),
                    "rows_per_second": round(rows / elapsed),
                    "rows_per_minute": round(rows / elapsed * 60),
                    "queries_per_row": round(counter.count / rows, 3),
                    "rss_peak_mb": _max_rss_mb(),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])
