"""CSV and XLSX exports of what a page shows (call history, callbacks), through one code path.

A table is read in chunks (`Table.read`: from a position to the next chunk and the next position),
never as a whole:

- CSV streams with bounded memory. Under ASGI, Django reads a *synchronous* streaming iterator
  into a list before it sends a byte, so the CSV body is an asynchronous iterator: each chunk is
  read from the database in a worker thread (`sync_to_async`), written out and handed to the
  server, which waits for a slow client before the next chunk is read.
- XLSX is written in openpyxl's write-only mode (rows go to a temporary file as they come) and at
  most `XLSX_ROW_LIMIT` rows, pausing as long as it works so that the panels' pushes keep their
  latency; the file is then sent from disk in blocks.

Every cell passes through `neutralise_formula`, the one rule for text from outside.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook

from telsam_panel.spreadsheet_cells import neutralise_formula

FORMATS = ("csv", "xlsx")
CHUNK_SIZE = 2000  # rows per database read: a few hundred KB at a time, a few ms of work
# A spreadsheet of more rows is slow to open and to build (the web process builds it); CSV has no
# limit. Documented in docs/exports.md.
XLSX_ROW_LIMIT = 100_000
_FILE_BLOCK = 64 * 1024
_XLSX_TURN_ROWS = 250  # rows of a workbook built between two pauses (about 30 ms of work)
_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Row = Sequence[object]
# position (None: the start) → (rows, the next position, or None after the last chunk)
Reader = Callable[[Any], tuple[list[Row], Any]]


@dataclass(frozen=True)
class Table:
    """What an export writes: a file name (without date and extension), the header, and a
    reader of its rows, chunk by chunk."""

    name: str
    columns: Sequence[str]
    read: Reader


def newest_first(
    queryset: QuerySet,
    field: str,
    values: Sequence[str],
    to_row: Callable[[tuple], Row],
) -> Reader:
    """A reader of `values` (field names, as for `values_list`) of `queryset` ordered by `field`,
    then primary key, both descending, by keyset: each chunk starts after the last row of the one
    before (no OFFSET that rereads what came before, no cursor held open between chunks). Plain
    tuples, not model instances: the export costs a fraction of the CPU."""

    def read(after: tuple[Any, Any] | None) -> tuple[list[Row], tuple[Any, Any] | None]:
        chunk_size = CHUNK_SIZE
        chunk = queryset.order_by(f"-{field}", "-pk")
        if after is not None:
            value, pk = after
            chunk = chunk.filter(**{f"{field}__lte": value}).exclude(
                **{field: value, "pk__gte": pk}
            )
        records = list(chunk.values_list(field, "pk", *values)[:chunk_size])
        rows = [to_row(record[2:]) for record in records]
        if len(records) < chunk_size:
            return rows, None
        return rows, records[-1][:2]

    return read


def all_at_once(rows: list[Row]) -> Reader:
    """A reader of rows already at hand (a page's short list)."""
    return lambda _position: (rows, None)


def response(table: Table, file_format: str) -> StreamingHttpResponse:
    """The download of `table` as `file_format` ("csv" or "xlsx"). (For XLSX, the caller has
    checked `XLSX_ROW_LIMIT`: rows past it are left out.)"""
    body = _csv_body(table) if file_format == "csv" else _xlsx_body(table)
    download = StreamingHttpResponse(body, content_type=_CONTENT_TYPES[file_format])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    download["Content-Disposition"] = f'attachment; filename="{table.name}-{stamp}.{file_format}"'
    return download


def xlsx_limit_message(rows: int) -> str:
    return _(
        "These filters match %(rows)s calls; an XLSX file holds at most %(limit)s. Narrow the "
        "filters, or export CSV, which has no limit."
    ) % {
        "rows": number_format(rows, force_grouping=True),
        "limit": number_format(XLSX_ROW_LIMIT, force_grouping=True),
    }


class _Echo:
    """A file that returns what is written: csv.writer then formats one line at a time."""

    def write(self, value: str) -> str:
        return value


def _cells(row: Row) -> list[object]:
    return [neutralise_formula(value) for value in row]


async def _csv_body(table: Table) -> AsyncIterator[str]:
    writer = csv.writer(_Echo())

    def lines(position: Any) -> tuple[str, Any]:
        # Read and format in a worker thread: the event loop, which also pushes to the open
        # panels, only hands the text over.
        rows, position = table.read(position)
        return "".join(writer.writerow(_cells(row)) for row in rows), position

    # Excel reads a CSV as UTF-8 only with a byte-order mark.
    yield "\ufeff" + writer.writerow(_cells(table.columns))
    position = None
    while True:
        text, position = await sync_to_async(lines)(position)
        if text:
            yield text
        if position is None:
            return


def _xlsx_body(table: Table) -> AsyncIterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(_cells(table.columns))
    position, written = None, 0
    busy_since = time.monotonic()
    while written < XLSX_ROW_LIMIT:
        rows, position = table.read(position)
        for row in rows[: XLSX_ROW_LIMIT - written]:
            sheet.append(_cells(row))
            written += 1
            if written % _XLSX_TURN_ROWS == 0:
                # Building a workbook is pure Python and holds the interpreter lock, in the
                # process that also pushes every call to the open panels (100,000 rows pushed
                # their latency up by 440 ms): it takes turns with them, as long idle as busy.
                time.sleep(time.monotonic() - busy_since)
                busy_since = time.monotonic()
        if position is None:
            break
    file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _file_blocks once sent)
    workbook.save(file)
    file.seek(0)
    return _file_blocks(file)


async def _file_blocks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while block := await sync_to_async(file.read, thread_sensitive=False)(_FILE_BLOCK):
            yield block
    finally:
        file.close()
