"""CSV and XLSX exports of what a page shows (call history, callbacks), through one code path.

A table is read in chunks (`Table.read`: from a position to the next chunk and the next position),
never as a whole:

- CSV streams with bounded memory. Under ASGI, Django reads a *synchronous* streaming iterator
  into a list before it sends a byte, so the CSV body is an asynchronous iterator: each chunk is
  read from the database in a worker thread (`sync_to_async`), written out and handed to the
  server, which waits for a slow client before the next chunk is read.
- XLSX is written in openpyxl's write-only mode (rows go to a temporary file as they come) and at
  most `XLSX_ROW_LIMIT` rows, in turns in a worker thread with pauses as long as the turns so
  that the panels' pushes keep their latency; the file is then sent from disk in blocks. One
  workbook is built at a time per process (a second export is answered 503 at once), and a build
  whose browser has gone stops at its next turn: the server cancels the response's iterator, and
  the turns are where it notices.

Every cell passes through `neutralise_formula`, the one rule for text from outside.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
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
# Building a workbook is pure Python and holds the interpreter lock: two at once would leave the
# panels' pushes no turn of their own. Held while a workbook is built: the view answers 503 while
# it is, and a body that starts in the same instant as another waits for it.
_XLSX_BUILD = threading.Lock()
_BUSY_RETRY_SECONDS = 30
_XLSX_WAIT_STEP = 0.1  # seconds
logger = logging.getLogger(__name__)
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


def response(request: HttpRequest, table: Table, file_format: str) -> HttpResponse:
    """The download of `table` as `file_format` ("csv" or "xlsx"), or, while another XLSX
    workbook is being built in this process, a 503 page saying so. (For XLSX, the caller has
    checked `XLSX_ROW_LIMIT`: rows past it are left out.)"""
    if file_format == "csv":
        download = StreamingHttpResponse(_csv_body(table), content_type=_CONTENT_TYPES["csv"])
    elif _XLSX_BUILD.locked():
        return _busy_page(request)
    else:
        download = StreamingHttpResponse(_xlsx_body(table), content_type=_CONTENT_TYPES["xlsx"])
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


def _busy_page(request: HttpRequest) -> HttpResponse:
    page = render(request, "calls/export_busy.html", status=503)
    page["Retry-After"] = str(_BUSY_RETRY_SECONDS)
    return page


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


class _XlsxBuild:
    """A write-only workbook of `table`, built one turn (`_XLSX_TURN_ROWS` rows) at a time."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet()
        self.sheet.append(_cells(table.columns))
        self.written = 0
        self.done = False
        self._rows: list[Row] = []
        self._position: Any = None
        self._read_all = False

    def turn(self) -> None:
        for _turn in range(_XLSX_TURN_ROWS):
            if not self._rows and not self._read_all:
                self._rows, self._position = self.table.read(self._position)
                self._rows.reverse()  # taken from the end, in their order
                self._read_all = self._position is None
            if not self._rows or self.written >= XLSX_ROW_LIMIT:
                self.done = True
                return
            self.sheet.append(_cells(self._rows.pop()))
            self.written += 1

    def save(self) -> IO[bytes]:
        file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _xlsx_body once sent)
        self.workbook.save(file)
        file.seek(0)
        return file


async def _to_the_end(work: Callable[[], Any]) -> Any:
    """`work` in the request's worker thread. If the response is cancelled meanwhile (its
    browser left), the thread is let finish first: the build is given up only between turns,
    never while a thread still writes to it."""
    running = asyncio.ensure_future(sync_to_async(work)())
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait([running])
        raise


async def _xlsx_body(table: Table) -> AsyncIterator[bytes]:
    # Taken when the body starts, not in the view: a response that is never sent holds nothing.
    while not _XLSX_BUILD.acquire(blocking=False):
        await asyncio.sleep(_XLSX_WAIT_STEP)
    build = None
    try:
        build = await _to_the_end(lambda: _XlsxBuild(table))
        while not build.done:
            busy_since = time.monotonic()
            await _to_the_end(build.turn)
            # Take turns with the panels' pushes in this process (100,000 rows built at once
            # pushed their latency up by 440 ms): as long idle as busy.
            await asyncio.sleep(time.monotonic() - busy_since)
        file = await _to_the_end(build.save)
    except asyncio.CancelledError:
        logger.info(
            "An XLSX export stopped after %s rows: its client left.",
            build.written if build else 0,
        )
        raise
    finally:
        _XLSX_BUILD.release()  # built or given up: the next one may start while this is sent
    async with aclosing(_file_blocks(file)) as blocks:
        async for block in blocks:
            yield block


async def _file_blocks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while block := await sync_to_async(file.read, thread_sensitive=False)(_FILE_BLOCK):
            yield block
    finally:
        file.close()
