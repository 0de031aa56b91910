"""Customer files in and out: bad rows reported, good rows imported, numbers kept as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
import tablib
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from customers.importing import import_customers_file
from customers.models import Customer, PhoneNumber
from customers.resources import CustomerResource
from customers.services import customer_create

pytestmark = pytest.mark.django_db

HEADER = ["name", "company", "phone", "email", "notes"]
BROKEN = {  # row index (0-based, data rows) → a broken row and what the report must say
    17: (["Bad Phone", "X", "12", "", ""], "phone"),
    250: (["", "No Name Ltd", "0532 000 00 01", "", ""], "name"),
    501: (["Bad Mail", "Y", "0532 000 00 02", "not-an-email", ""], "email"),
    999: (["Half Bad", "Z", "0532 000 00 03; abc", "", ""], "phone"),
}


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def thousand_rows() -> list[list[str]]:
    rows = []
    for i in range(1000):
        if i in BROKEN:
            rows.append(BROKEN[i][0])
        else:
            phones = f"0532 {i // 100:03d} {i % 100:02d} 00"
            if i % 10 == 0:
                phones += f"; +90 212 555 {i % 100:02d} {i // 100:02d}"
            rows.append([f"Müşteri {i}", f"Firma {i % 37}", phones, f"m{i}@example.com", ""])
    return rows


def test_a_thousand_row_csv_imports_the_good_rows_and_lists_the_bad_ones(tmp_path):
    report = import_customers_file(write_csv(tmp_path / "customers.csv", thousand_rows()))

    assert report.new == 996
    assert Customer.objects.count() == 996
    # Spreadsheet row numbers: the header is row 1, data row i is row i + 2.
    assert [p.row for p in report.problems] == [i + 2 for i in sorted(BROKEN)]
    for problem, (_, column) in zip(
        report.problems, (BROKEN[i] for i in sorted(BROKEN)), strict=True
    ):
        assert column in problem.message
    assert not Customer.objects.filter(name__in=["Bad Phone", "Bad Mail", "Half Bad"]).exists()
    assert PhoneNumber.objects.filter(customer__name="Müşteri 10").count() == 2
    assert PhoneNumber.objects.get(customer__name="Müşteri 7").number == "+905320000700"


def test_the_command_prints_a_summary_and_each_rejected_row(tmp_path, capsys, sam):
    path = write_csv(tmp_path / "c.csv", [["Ayşe", "A", "0532 123 45 67", "", ""], BROKEN[17][0]])
    call_command("import_customers", str(path), "--user", "sam")
    out, err = capsys.readouterr()
    assert "1 new, 0 updated, 0 unchanged customers were imported; 1 rows rejected." in out
    assert "row 3: phone" in err


def test_a_dry_run_saves_nothing(tmp_path, capsys):
    path = write_csv(tmp_path / "c.csv", [["Ayşe", "A", "0532 123 45 67", "", ""]])
    call_command("import_customers", str(path), "--dry-run")
    assert "would be imported" in capsys.readouterr().out
    assert Customer.objects.count() == 0


def test_a_file_without_the_needed_columns_is_refused_in_words(tmp_path, sam):
    path = tmp_path / "c.csv"
    path.write_text("who,what\nx,y\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Dosyada name, phone sütunu yok"):
        call_command("import_customers", str(path), "--user", "sam")


def test_xlsx_numbers_stay_digits_not_floats(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["Excel Müşteri", "E", 5321234567, "", ""])  # a number cell, as Excel stores it
    sheet.append(["Excel Float", "F", 905441112233.0, "", ""])
    book.save(tmp_path / "c.xlsx")

    report = import_customers_file(tmp_path / "c.xlsx")

    assert report.problems == []
    assert sorted(PhoneNumber.objects.values_list("number", flat=True)) == [
        "+905321234567",
        "+905441112233",
    ]


def test_an_export_reimports_as_updates_without_duplicates(tmp_path):
    ayse = customer_create(name="Ayşe", company="A", phones=["0532 123 45 67", "0212 555 12 34"])
    exported = CustomerResource().export()
    row = dict(zip(exported.headers, exported[0], strict=True))
    assert row["phone"] == "+902125551234; +905321234567" or row["phone"] == (
        "+905321234567; +902125551234"
    )
    path = tmp_path / "export.csv"
    path.write_text(exported.csv, encoding="utf-8")

    report = import_customers_file(path)

    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
    assert Customer.objects.get().pk == ayse.pk
    assert PhoneNumber.objects.count() == 2


@pytest.mark.parametrize(
    "formula", ['=HYPERLINK("http://evil")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
)
def test_an_export_neutralises_formulas_and_reimports_them_unchanged(tmp_path, formula):
    customer = customer_create(name=formula, company=formula, phones=["0532 123 45 67"])
    exported = CustomerResource().export()
    row = dict(zip(exported.headers, exported[0], strict=True))
    assert row["name"] == row["company"] == "'" + formula
    assert row["phone"] == "+905321234567"  # our own E.164 numbers are not formulas

    path = tmp_path / "export.csv"
    path.write_text(exported.csv, encoding="utf-8")
    import_customers_file(path)
    customer.refresh_from_db()
    assert customer.name == customer.company == formula


def test_the_admin_exports_csv(tmp_path, sam):
    customer_create(name="Ayşe", company="A", phones=["0532 123 45 67"])
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("admin:customers_customer_export"),
        {"format": "0", "resource": "0", "export_items": [], **_all_export_fields()},
    )
    assert response.status_code == 200, response.content[:500]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["name"] == "Ayşe"
    assert rows[0]["phone"] == "+905321234567"


def _all_export_fields() -> dict[str, str]:
    return {f"customerresource_{name}": "on" for name in ["id", *HEADER]}


def test_the_admin_import_imports_good_rows_and_lists_bad_ones(sam):
    client = Client()
    client.force_login(sam)
    content = tablib.Dataset(
        ["Ayşe", "A", "0532 123 45 67", "", ""], ["Bad", "B", "12", "", ""], headers=HEADER
    ).csv.encode()
    upload = io.BytesIO(content)
    upload.name = "customers.csv"
    response = client.post(reverse("admin:customers_customer_import"), {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.new, [p.row for p in report.problems]) == (1, [3])
    assert "telefon numarası olamayacak kadar kısa" in response.content.decode()
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ayşe"]


def test_the_admin_import_is_refused_to_an_agent_without_add_permission(alice):
    alice.groups.clear()
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("admin:customers_customer_import")).status_code == 403


def test_a_row_that_fails_outright_loses_no_other_row(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "id,name,company,phone,email,notes\n"
        ",Ayşe,A,0532 123 45 67,,\n"
        "abc,Bozuk,B,0532 123 45 68,,\n"
        "999,Kayıp,C,0532 123 45 69,,\n",
        encoding="utf-8",
    )
    report = import_customers_file(path)
    assert [p.row for p in report.problems] == [3, 4]
    assert all("numaralı müşteri yok" in p.message for p in report.problems)
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ayşe"]
    assert report.new == 1


def test_a_sheet_with_a_blank_header_cell_is_still_read(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["name", None, "phone"])
    book.active.append(["Ayşe", "x", "0532 123 45 67"])
    book.save(tmp_path / "c.xlsx")
    assert import_customers_file(tmp_path / "c.xlsx").new == 1
