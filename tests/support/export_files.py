"""Reading the panel's export files back in tests, as a spreadsheet would: every row as a dict of
cell texts by column name."""

from __future__ import annotations

import csv
import io

import openpyxl
from asgiref.sync import async_to_sync
from django.http import HttpResponse


def body(response: HttpResponse) -> bytes:
    """The whole body, whether the response streams (asynchronously, as CSV exports do) or not.
    (The chunks are read through `async_to_sync` from this thread, so the export's database
    reads run on the test's own connection and see its data.)"""
    if not response.streaming:
        return response.content
    if not response.is_async:
        return b"".join(response.streaming_content)

    async def read() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(read)()


def csv_rows(response: HttpResponse) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response: HttpResponse) -> list[dict[str, str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True).active
    rows = [["" if cell is None else str(cell) for cell in row] for row in sheet.values]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def export_rows(response: HttpResponse, file_format: str) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    return csv_rows(response) if file_format == "csv" else xlsx_rows(response)
