"""A customer file up to the upload limit imports within a request: the import's database work
grows with its chunks of rows, not with each row (bench/customer_import.py measures the speed)."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.importing import import_customers_file, record_import
from customers.models import Customer, CustomerImport, PhoneNumber
from customers.services import customer_create

pytestmark = pytest.mark.django_db

ROWS = 300  # within one chunk of rows: a query per row would show 300 times over


def customer_list(tmp_path, rows: int, *, note: str = "", name: str = "liste.csv"):
    lines = ["Ad Soyad;Firma;Telefon;Notlar"]
    for index in range(rows):
        phones = f"0532 {index:03d} 00 00" + (
            f"; 0212 {index:03d} 11 11" if index % 10 == 0 else ""
        )
        notes = note if index % 3 == 0 else ""
        lines.append(f'Müşteri {index};Firma {index % 7};"{phones}";{notes}')
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def imported(path, user):
    with CaptureQueriesContext(connection) as queries:
        report = import_customers_file(path)
        record_import(report, file_name=path.name, source=CustomerImport.Source.ADMIN, user=user)
    return report, len(queries)


def test_a_file_costs_a_few_queries_per_chunk_of_rows_not_per_row(tmp_path, sam):
    new, new_queries = imported(customer_list(tmp_path, ROWS), sam)
    again, again_queries = imported(customer_list(tmp_path, ROWS), sam)
    edited, edited_queries = imported(customer_list(tmp_path, ROWS, note="VIP"), sam)

    assert (new.new, new.updated, new.unchanged, new.problems) == (ROWS, 0, 0, [])
    assert (again.new, again.updated, again.unchanged) == (0, 0, ROWS)
    assert (edited.new, edited.updated, edited.unchanged) == (0, ROWS // 3, ROWS - ROWS // 3)
    assert Customer.objects.count() == ROWS
    assert PhoneNumber.objects.count() == ROWS + ROWS // 10
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == ROWS
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == ROWS // 3
    # Row by row, the first import took about 11 queries a row; per chunk it takes about 15.
    queries = {"new": new_queries, "unchanged": again_queries, "edited": edited_queries}
    assert max(queries.values()) < 40, queries


def test_the_import_page_refuses_more_rows_than_it_imports_in_time_and_says_what_to_do(
    tmp_path, sam, settings
):
    # Rows, not bytes, decide how long an import takes: an XLSX file, or a CSV with names and
    # numbers only, holds three times as many rows per megabyte as a list with notes.
    settings.CUSTOMER_IMPORT_MAX_ROWS = 20
    path = customer_list(tmp_path, 21)
    client = Client()
    client.force_login(sam)
    upload = io.BytesIO(path.read_bytes())
    upload.name = path.name

    response = client.post(reverse("admin:customers_customer_import"), {"file": upload})

    assert response.status_code == 200
    assert response.context["report"] is None
    error = response.context["error"]  # in the page, in the user's language
    # Reading stops at the first row past the limit: the message names the limit, not a count.
    assert "20" in error and "manage.py import_customers" in error
    assert error in response.content.decode()
    assert not Customer.objects.exists()
    assert not CustomerImport.objects.exists()
    # The command line has no request to time out: it takes the file.
    call_command("import_customers", str(path), "--user", sam.username, stdout=io.StringIO())
    assert Customer.objects.count() == 21


def test_rows_of_a_later_chunk_see_what_earlier_rows_changed(tmp_path, sam):
    # Rows are looked up and written a chunk (1,000 rows) at a time: a number that an earlier row
    # took from a customer belongs to nobody afterwards, in the same chunk and in the next.
    # (A row with an id replaces its customer's numbers; one without adds to them.)
    ayse = customer_create(
        name="Ayşe Yılmaz", phones=["0532 999 00 01", "0532 999 00 02", "0532 999 00 03"]
    )
    lines = ["id;name;phone", f"{ayse.pk};Ayşe Yılmaz;0532 999 00 01", ";Selin;0532 999 00 02"]
    lines += [f";Müşteri {index};0533 {index:07d}" for index in range(1100)]
    lines += [";Deniz;0532 999 00 03", ";Ayşe Yılmaz;0532 999 00 01"]
    path = tmp_path / "liste.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    report = import_customers_file(path)

    assert [p.row for p in report.problems] == [len(lines)]  # the last row repeats row 2's number
    assert (report.new, report.updated) == (1102, 1)
    assert set(Customer.objects.get(pk=ayse.pk).phones.values_list("number", flat=True)) == {
        "+905329990001"
    }
    assert {
        name: list(Customer.objects.get(name=name).phones.values_list("number", flat=True))
        for name in ("Selin", "Deniz")
    } == {"Selin": ["+905329990002"], "Deniz": ["+905329990003"]}


def test_a_row_the_database_refuses_is_that_rows_error_and_its_chunk_still_imports(tmp_path):
    # Rows are written a chunk at a time; a value only the database refuses (PostgreSQL takes no
    # NUL character in text) must not lose the chunk's other rows nor be reported as imported.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite stores a NUL character")
    path = tmp_path / "liste.csv"
    path.write_bytes(
        b"name,phone,notes\r\nAyse,0532 123 45 67,\r\nMehmet,0532 123 45 68,n\x00ot\r\n"
        b"Selin,0532 123 45 69,\r\n"
    )

    report = import_customers_file(path)

    assert (report.new, [p.row for p in report.problems]) == (2, [3])
    assert "NUL" in report.problems[0].message
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Ayse", "Selin"]
    assert PhoneNumber.objects.count() == 2
