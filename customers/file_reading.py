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
import zipfile
from pathlib import Path

import tablib
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

Table = tuple[list[object], list[list[object]]]  # the header row and the data rows


def read_table(name: str, content: bytes) -> Table:
    """The header and rows of a CSV/TSV or XLSX file; ValueError in words if it can't be read.

    The content decides, not only the name: an Excel workbook saved as `.csv` is still read.
    """
    suffix = Path(name).suffix.lower()
    if content.startswith(_OLE):
        raise ValueError(_("This is an old Excel file (.xls): save it as .xlsx or CSV."))
    if content.startswith(_ZIP) and suffix in (".xlsx", *TEXT_SUFFIXES):
        return _read_xlsx(content)
    if suffix in TEXT_SUFFIXES:
        return _read_delimited(decode_text(content))
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


def _read_delimited(text: str) -> Table:
    lines = text.splitlines()
    first = lines[0] if lines else ""
    # Excel writes and honours a first line `sep=;` naming the delimiter.
    if first.lower().startswith("sep=") and len(first) == 5:
        delimiter, text = first[4], text[len(first) :].lstrip("\r\n")
    else:
        delimiter = sniff_delimiter(first)
    # A long note must not fail the file: the upload limit bounds a cell already.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ValueError(
            _("The file is not a valid CSV file: %(error)s") % {"error": exc}
        ) from None
    if not records:
        return [], []
    headers, rows = records[0], records[1:]
    width = max(len(headers), *(len(row) for row in rows)) if rows else len(headers)
    # Rows shorter or longer than the header (hand-edited files): pad, so no cell is dropped.
    return _pad(headers, width), [_pad(row, width) for row in rows]


def _read_xlsx(content: bytes) -> Table:
    try:
        dataset = tablib.Dataset().load(content, format="xlsx")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValueError(_("The file is not an Excel workbook (.xlsx).")) from None
    return list(dataset.headers or []), [list(row) for row in dataset]


def _pad(cells: list[object], width: int) -> list[object]:
    return [*cells, *[""] * (width - len(cells))]
