"""A customer file's header and rows, whatever spreadsheet saved it (docs/customer-import.md).

Text files: UTF-8 (with or without a byte-order mark), UTF-16 with its mark (Excel's "Unicode
text"), or Turkish Windows-1254 / ISO-8859-9, as Excel on a Turkish Windows saves "CSV" unless
"CSV UTF-8" is chosen; cells separated by `,`, `;` (Excel where the decimal mark is a comma) or
tabs. Excel workbooks: `.xlsx`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import openpyxl
from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

from customers.columns import field_of

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DELIMITERS = (",", ";", "\t")
# Charset detection alone takes Turkish for Western European (cp1252, where ş is þ): choose
# only among the encodings a Turkish file comes in. Both read ğ, ı, İ, ş alike; Windows-1254
# adds “ ” – € where ISO-8859-9 has control codes, which tells them apart.
TURKISH_SINGLE_BYTE = ["cp1254", "iso8859_9"]
_ZIP = b"PK\x03\x04"  # an .xlsx is a zip archive
_OLE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
# A customer file has a handful of columns. A row is never padded past this: a few kilobytes
# (one line of commas, a sheet claiming XFD5000) would otherwise build hundreds of megabytes.
MAX_COLUMNS = 100
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

Table = tuple[list[object], list[list[object]]]  # the header row and the data rows


class FileRefused(ValueError):
    """The file was read far enough to refuse it, in words (a limit it passes)."""


def read_table(name: str, content: bytes, *, max_rows: int | None = None) -> Table:
    """The header and rows of a CSV/TSV or XLSX file; ValueError in words if it can't be read,
    or if it has more than `max_rows` data rows (reading stops there) or MAX_COLUMNS columns.

    The content decides, not only the name: an Excel workbook saved as `.csv` is still read.
    """
    suffix = Path(name).suffix.lower()
    if content.startswith(_OLE):
        raise ValueError(_("This is an old Excel file (.xls): save it as .xlsx or CSV."))
    if content.startswith(_ZIP) and suffix in (".xlsx", *TEXT_SUFFIXES):
        return _read_xlsx(content, max_rows)
    if suffix in TEXT_SUFFIXES:
        return _read_delimited(decode_text(content), max_rows)
    if suffix == ".xlsx":
        raise ValueError(_("The file is not an Excel workbook (.xlsx)."))
    raise ValueError(
        _("Unsupported file type '%(suffix)s': use .csv or .xlsx.") % {"suffix": suffix}
    )


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM) if the bytes are UTF-8, else the Turkish encoding they fit."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(content)  # Excel's "Unicode text" (tab-delimited)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Non-ASCII bytes that are not UTF-8: a legacy Turkish encoding, or not text at all.
    # The default chaos threshold (0.2) refuses short real files with notes like "İĞÜŞ ığüş";
    # 0.5 still refuses binary and random bytes.
    best = from_bytes(content, cp_isolation=TURKISH_SINGLE_BYTE, threshold=0.5).best()
    if best is None:
        raise ValueError(
            _(
                "The file's characters could not be read: save it as 'CSV UTF-8' "
                "or as an Excel workbook (.xlsx)."
            )
        )
    return str(best)


def _decode_utf16(content: bytes) -> str:
    try:
        return content.decode("utf-16")
    except UnicodeDecodeError:
        raise ValueError(_("The file is not valid UTF-16 text.")) from None


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most known column names (ties: most cells).

    The header decides, not the data: a note full of commas in a `;` file can't mislead it.
    """

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        return sum(field_of(cell) is not None for cell in cells), len(cells)

    return max(DELIMITERS, key=score)


def _read_delimited(text: str, max_rows: int | None) -> Table:
    first = _LINE_BREAK.split(text, maxsplit=1)[0]
    # Excel writes and honours a first line `sep=;` naming the delimiter.
    if first.lower().startswith("sep=") and len(first) == 5:
        delimiter, text = first[4], text[len(first) :].lstrip("\r\n")
    else:
        delimiter = sniff_delimiter(first)
    # A long note must not fail the file: the upload limit bounds a cell already.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    try:
        return _collect(csv.reader(_lines(text), delimiter=delimiter), max_rows)
    except csv.Error as exc:
        raise ValueError(
            _("The file is not a valid CSV file: %(error)s") % {"error": exc}
        ) from None


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their line ends, one at a time: no copy of the whole file (a
    StringIO holds four bytes a character) before the row limit is checked."""
    return (match.group() for match in _LINE.finditer(text))


def _read_xlsx(content: bytes, max_rows: int | None) -> Table:
    # Any failure of the library on a damaged workbook (truncated XML, no sheet, a broken
    # style) is the same answer to the user: the file can't be read as a workbook.
    unreadable = _(
        "The file is not a readable Excel workbook (.xlsx): it may be damaged. "
        "Open it in Excel and save it again, or save it as CSV."
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ValueError(unreadable) from None
    try:
        sheet = workbook.active
        # The sheet's declared size (`<dimension ref="A1:XFD5000">`) is the file's word, not
        # its cells: read the rows as they are, each as long as its last cell.
        sheet.reset_dimensions()
        return _collect(sheet.iter_rows(values_only=True), max_rows)
    except FileRefused:
        raise
    except Exception:
        raise ValueError(unreadable) from None
    finally:
        workbook.close()


def _collect(records: Iterable[Sequence[object]], max_rows: int | None) -> Table:
    """The header and data rows of `records`, read one at a time and refused as soon as a
    limit is passed; every row padded to the widest, once trailing empty cells are dropped."""
    headers: list[object] | None = None
    rows: list[list[object]] = []
    blank = 0  # empty rows not yet kept: trailing ones (a formatted sheet's) are dropped
    for number, record in enumerate(records, 1):
        cells = _without_trailing_empty_cells(record)
        if len(cells) > MAX_COLUMNS:
            raise FileRefused(
                _(
                    "Row %(row)d of the file has more than %(limit)d columns; a customer file "
                    "has a few (name, company, phone…). Check that this is the right file."
                )
                % {"row": number, "limit": MAX_COLUMNS}
            )
        if headers is None:
            headers = cells
        elif not cells:
            blank += 1
        else:
            if max_rows is not None and len(rows) + blank + 1 > max_rows:
                raise FileRefused(
                    _(
                        "The file has more than %(limit)d rows; the import page takes up to "
                        "%(limit)d at a time. Split it into smaller files, or import it on the "
                        "server with “manage.py import_customers”."
                    )
                    % {"limit": max_rows}
                )
            rows += [[] for _ in range(blank)]  # an empty row keeps the row numbers right
            blank = 0
            rows.append(cells)
    if headers is None:
        return [], []
    width = max(len(headers), *(len(row) for row in rows)) if rows else len(headers)
    # Rows shorter or longer than the header (hand-edited files): pad, so no cell is dropped.
    return _pad(headers, width), [_pad(row, width) for row in rows]


def _without_trailing_empty_cells(record: Sequence[object]) -> list[object]:
    end = len(record)
    while end and (record[end - 1] is None or str(record[end - 1]).strip() == ""):
        end -= 1
    return list(record[:end])


def _pad(cells: list[object], width: int) -> list[object]:
    return [*cells, *[""] * (width - len(cells))]
