"""Small files that claim to be huge, and damaged workbooks: refused in words, with bounded memory,
never a server error (docs/customer-import.md, "Files")."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile

import openpyxl
import openpyxl.styles
import pytest
from django.utils import translation

from customers.importing import read_dataset
from customers.models import Customer

pytestmark = pytest.mark.django_db

MAX_ROWS = 30_000  # the admin page's default limit
# Reading a customer file of a few kilobytes may not take more than this: the defects took
# hundreds of megabytes for the same files.
MEMORY_BOUND = 20 * 1024 * 1024


def peak_memory_of(read) -> tuple[object, int]:
    """What `read()` returns (or the ValueError it raises) and the peak bytes it allocated."""
    tracemalloc.start()
    try:
        try:
            answer = read()
        except ValueError as exc:
            answer = exc
        return answer, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def workbook_bytes(rows: list[list[object]], *, formatted_down_to: int = 0) -> bytes:
    """A workbook of `rows`; `formatted_down_to`: a formatted, empty cell in that row, as a sheet
    that someone once formatted further down has."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    if formatted_down_to:
        workbook.active.cell(formatted_down_to, 1).font = openpyxl.styles.Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_member(content: bytes, member: str, change) -> bytes:
    """The workbook `content` with zip member `member` replaced by `change(old_bytes)`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, change(data) if info.filename == member else data)
    return buffer.getvalue()


CUSTOMERS = [
    ["name", "phone"],
    ["Ayşe Yılmaz", "0532 123 45 67"],
    ["Mehmet Öz", "0212 555 12 34"],
]
SHEET = "xl/worksheets/sheet1.xml"


def test_a_tiny_xlsx_declaring_a_huge_sheet_is_read_by_its_real_cells(tmp_path, import_file):
    # 4.8 KB declaring A1:XFD5000 took 650 MB: the reader trusted the declared size.
    declared = with_member(
        workbook_bytes(CUSTOMERS, formatted_down_to=1000),
        SHEET,
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1000"', xml),
    )
    assert len(declared) < 10_000

    customer_file, peak = peak_memory_of(
        lambda: read_dataset("liste.xlsx", declared, max_rows=MAX_ROWS)
    )

    assert peak < MEMORY_BOUND, f"{peak / 1e6:.0f} MB"
    assert len(customer_file.dataset) == 2
    path = tmp_path / "liste.xlsx"
    path.write_bytes(declared)
    outcome = import_file(path)
    assert (outcome.new, outcome.rejected) == (2, 0), outcome.text


def test_a_csv_with_one_line_of_commas_reads_in_bounded_memory():
    # 76 KB with one line of 50,000 commas took 866 MB: every row padded to the widest.
    lines = ["name,phone", *(f"M{index},0532 {index:07d}" for index in range(500))]
    lines.insert(200, "," * 50_000)
    content = "\r\n".join(lines).encode()

    customer_file, peak = peak_memory_of(
        lambda: read_dataset("liste.csv", content, max_rows=MAX_ROWS)
    )

    assert peak < MEMORY_BOUND, f"{peak / 1e6:.0f} MB"
    assert len(customer_file.dataset) == 501  # the empty line is a row: row numbers stay right
    assert customer_file.dataset.headers == ["id", "name", "phone"]


def test_a_file_with_more_columns_than_a_customer_file_has_is_refused_in_words():
    content = ("name,phone\r\nAyşe,0532 123 45 67\r\n" + "," * 50_000 + "x\r\n").encode()

    with translation.override("en"):
        refusal, peak = peak_memory_of(lambda: read_dataset("liste.csv", content))

    assert isinstance(refusal, ValueError), refusal
    assert "100 columns" in str(refusal) and "row 3" in str(refusal).lower()
    assert peak < MEMORY_BOUND, f"{peak / 1e6:.0f} MB"


def test_rows_past_the_limit_are_not_read_before_the_file_is_refused():
    content = ("name,phone\r\n" + "Ayse Yilmaz,0532 123 45 67\r\n" * 200_000).encode()

    with translation.override("en"):
        refusal, peak = peak_memory_of(lambda: read_dataset("liste.csv", content, max_rows=100))

    assert isinstance(refusal, ValueError), refusal
    assert "more than 100 rows" in str(refusal) and "manage.py import_customers" in str(refusal)
    # The text itself is 5.6 MB; building every row took 88 MB.
    assert peak < 15 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _without_sheets(data: bytes) -> bytes:
    return re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data, flags=re.S)


@pytest.mark.parametrize(
    ("member", "damage"),
    [
        (SHEET, _truncated),
        ("xl/workbook.xml", _truncated),
        ("xl/styles.xml", _truncated),
        ("xl/workbook.xml", _without_sheets),
    ],
    ids=["sheet-truncated", "workbook-truncated", "styles-truncated", "no-sheet"],
)
def test_a_damaged_workbook_is_refused_in_words(tmp_path, import_file, member, damage):
    path = tmp_path / "liste.xlsx"
    path.write_bytes(with_member(workbook_bytes(CUSTOMERS), member, damage))

    outcome = import_file(path)  # the admin page answers 200, the command a clear error

    assert outcome.refused, outcome.text
    assert "Excel" in outcome.text
    assert not Customer.objects.exists()


def test_a_number_cell_too_big_for_a_float_is_that_rows_error(tmp_path, import_file):
    # Excel never writes 1E999, but a crafted file may: it reads as infinity.
    rows = [*CUSTOMERS, ["Sonsuz", 12345]]
    infinite = with_member(
        workbook_bytes(rows), SHEET, lambda xml: xml.replace(b">12345<", b">1E999<")
    )
    path = tmp_path / "liste.xlsx"
    path.write_bytes(infinite)

    outcome = import_file(path)

    assert (outcome.new, outcome.rejected) == (2, 1), outcome.text
    assert not Customer.objects.filter(name="Sonsuz").exists()
