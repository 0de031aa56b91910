"""A large CSV export streams under the real web server (uvicorn, as deployed): the first rows go
out while later ones are still unread in the database, so the web process, which also pushes to
every open panel, never holds the whole history. One XLSX workbook at a time is built per web
process, and a build whose browser has gone stops. (Memory and push latency while 1,000,000
records are exported: `bench/export_load.py`, docs/benchmarks.md.)"""

from __future__ import annotations

import csv
import http.client
import io
import re
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

from tests.support.personas import SAM
from tests.support.stack import PanelStack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

RECORDS = 20_000
PASSWORD = SAM.password
SEED = f"""
from datetime import timedelta
from django.utils import timezone
from calls.models import CallRecord
from tests.support.personas import SAM, create

create(SAM)
now = timezone.now()
CallRecord.objects.bulk_create(
    (
        CallRecord(
            pbx_id=str(n), calldate=now - timedelta(seconds=10 * n), direction="in",
            src=f"90532{{n:07d}}", dst="110", duration=60.0, disposition="ANSWERED",
        )
        for n in range({RECORDS})
    ),
    batch_size=2000,
)
"""


def forget_every_record(database_url: str) -> None:
    """Delete every call record at once, from outside the web server."""
    statement = "DELETE FROM calls_callrecord"
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=10) as database:
            database.execute(statement)
        return
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as database:
        database.execute(statement)


def log_in(url: str) -> str:
    """Log in through the login form; the session cookie."""
    browser = requests.Session()
    browser.get(f"{url}/accounts/login/", timeout=10)
    response = browser.post(
        f"{url}/accounts/login/",
        {
            "username": "sam",
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:300]
    return browser.cookies["sessionid"]


def slow_reader(port: int) -> http.client.HTTPConnection:
    """A connection whose receive buffer is small, as a slow browser's is: what the server cannot
    hand over waits in the server (or, with a buffering server, piles up there)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(60)
    sock.connect(("127.0.0.1", port))
    connection.sock = sock
    return connection


@contextmanager
def seeded_web_server(tmp_path: Path) -> Iterator[PanelStack]:
    """Only the web server, on a database seeded with the records: no poll is needed to export
    history."""
    panel = PanelStack(tmp_path, "http://127.0.0.1:9/", redis.Redis.from_url(settings.REDIS_URL))
    panel.manage("migrate", "--no-input", "-v", "0")
    panel.manage("shell", "-c", SEED)
    panel.web.start()
    try:
        panel.wait_for_web()
        yield panel
    finally:
        panel.web.stop()


def test_a_large_csv_export_sends_its_first_rows_before_reading_the_rest(tmp_path: Path):
    with seeded_web_server(tmp_path) as panel:
        cookie = log_in(panel.url)
        connection = slow_reader(panel.port)
        connection.request(
            "GET",
            "/history/?date_from=2000-01-01&export=csv",
            headers={"Cookie": f"sessionid={cookie}"},
        )
        response = connection.getresponse()
        assert response.status == 200
        first = response.read(4096)
        assert first.startswith("\ufeffdate,".encode())

        # Every record leaves the database while the download has only begun: a streaming export
        # has not read most of them yet, so they are not in the file; a buffering one sends all.
        forget_every_record(panel.env["DATABASE_URL"])
        rest = response.read()
        connection.close()

    rows = list(csv.reader(io.StringIO((first + rest).decode("utf-8-sig"))))
    assert rows[0][0] == "date"
    sent = len(rows) - 1
    assert 1 <= sent < RECORDS / 2, f"{sent} of {RECORDS} rows were sent"
    assert all(len(row) == len(rows[0]) for row in rows), "the file ends on a whole row"


XLSX_EXPORT = "/history/?date_from=2000-01-01&export=xlsx"


def test_one_xlsx_build_at_a_time_and_a_build_whose_browser_left_stops(tmp_path: Path):
    with seeded_web_server(tmp_path) as panel:
        cookie = log_in(panel.url)
        first = slow_reader(panel.port)
        first.request("GET", XLSX_EXPORT, headers={"Cookie": f"sessionid={cookie}"})
        assert first.getresponse().status == 200  # its workbook of 20,000 rows is being built

        second = requests.get(
            f"{panel.url}{XLSX_EXPORT}", cookies={"sessionid": cookie}, timeout=30
        )
        assert second.status_code == 503
        # In words, in the panel's language (Turkish unless the user chose English).
        assert "bir dışa aktarma dosyası hazırlanıyor" in second.text
        assert "CSV" in second.text
        assert second.headers["Retry-After"]

        # The first browser leaves: its build stops (well before its 20,000 rows), which frees
        # the way for the next export.
        offset = panel.web.log_offset()
        first.close()
        stopped = wait_for(lambda: "client left" in panel.web.log_since(offset), timeout=10)
        assert stopped, panel.web.tail()
        [rows] = re.findall(r"stopped after (\d+) rows", panel.web.log_since(offset))
        assert int(rows) < RECORDS

        third = requests.get(
            f"{panel.url}{XLSX_EXPORT}", cookies={"sessionid": cookie}, timeout=30, stream=True
        )
        assert third.status_code == 200
        third.close()
