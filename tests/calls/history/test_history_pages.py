"""History, callbacks and statistics pages, against hand-computed numbers."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from calls.history import exports
from calls.history.cdr_sync import store_records
from calls.history.stats import build_stats
from calls.models import CallRecord
from calls.panel.caller_card import caller_card
from calls.pbx import CdrRecord, Direction
from customers.services import customer_create
from tests.support.export_files import export_rows

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Europe/Istanbul")
DAY = (datetime.now(IST) - timedelta(days=1)).date()  # recent enough for the callbacks list
_ids = itertools.count(1)


def record(
    hour,
    minute=0,
    *,
    src="905321234567",
    dst="110",
    direction="in",
    disposition="ANSWERED",
    duration=60.0,
    queue="",
    day=DAY,
) -> CallRecord:
    """A finished call, stored the way the CDR sync stores one (customer link and roll-up too)."""
    pbx_id = str(next(_ids))
    store_records(
        [
            CdrRecord(
                id=pbx_id,
                calldate=datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST),
                direction=Direction(direction),
                src=src,
                dst=dst,
                duration=duration,
                disposition=disposition,
                queue=queue,
                record=True,
                userfield="",
            )
        ]
    )
    return CallRecord.objects.get(pbx_id=pbx_id)


@pytest.fixture
def day_of_calls():
    """9 calls on one day, with figures worked out by hand in the tests below."""
    record(9, 5, duration=120, queue="630")
    record(9, 40, duration=60, queue="630", disposition="NO ANSWER")
    record(9, 55, src="905441112233", duration=30, queue="631")
    record(10, 10, src="905441112233", disposition="BUSY", duration=3, queue="631")
    record(10, 30, direction="out", src="111", dst="905559998877", duration=300)
    record(14, 0, dst="111", duration=90, queue="630")
    record(14, 1, dst="111", disposition="NO ANSWER", duration=20)
    record(17, 59, direction="internal", src="110", dst="111", duration=15)
    record(23, 59, dst="112", duration=45)


def test_stats_match_the_hand_computed_day(day_of_calls):
    report = build_stats(DAY, DAY)
    assert (report.totals.calls, report.totals.answered, report.totals.missed) == (9, 6, 3)
    # Talk time of answered calls: 120, 30, 300, 90, 15, 45.
    assert report.average_talk == pytest.approx(600 / 6)
    assert report.longest_talk == 300
    by_hour = {row.hour: (row.calls, row.answered, row.missed) for row in report.per_hour}
    assert by_hour[9] == (3, 2, 1)
    assert by_hour[10] == (2, 1, 1)
    assert by_hour[14] == (2, 1, 1)
    assert by_hour[23] == (1, 1, 0)  # Istanbul time: 23:59 stays on this day and hour
    assert sum(row.calls for row in report.per_hour) == 9
    queues = {row.name: (row.calls, row.answered, row.missed) for row in report.per_queue}
    assert queues == {"630": (3, 2, 1), "631": (2, 1, 1)}
    extensions = {row.name: row.calls for row in report.per_extension}
    assert extensions == {"110": 4, "111": 4, "112": 1}  # outbound calls count the caller
    assert report.heatmap[-1][9] == 3 and report.heatmap[-1][23] == 1
    assert report.heatmap_max == 3


def test_the_stats_page_draws_its_chart_for_supervisors(day_of_calls, sam, alice):
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("calls:stats"), {"date_from": DAY, "date_to": DAY})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="hourly-chart"' in html and "09:00" in html
    assert 'id="heatmap"' in html
    client.force_login(alice)
    assert client.get(reverse("calls:stats")).status_code == 403


def test_history_filters_by_a_number_typed_in_another_format(day_of_calls, alice):
    client = Client()
    client.force_login(alice)
    page = client.get(
        reverse("calls:history"),
        {"date_from": DAY, "date_to": DAY, "number": "0544 111 22 33"},
    )
    assert page.status_code == 200
    assert page.context["totals"].calls == 2
    assert {r.src for r in page.context["page"]} == {"905441112233"}


@pytest.mark.parametrize(
    ("filters", "count"),
    [
        ({"direction": "out"}, 1),
        ({"disposition": "NO ANSWER"}, 2),
        ({"queue": "630"}, 3),
        ({"number": "111"}, 6),  # a fragment: extension 111 either way, and 90544*111*2233
        ({"customer": "ayş"}, 1),
    ],
)
def test_history_filters(day_of_calls, alice, filters, count):
    CallRecord.objects.filter(src="905441112233", disposition="BUSY").update(
        customer=customer_create(name="Ayşe", phones=[])
    )
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("calls:history"), {"date_from": DAY, "date_to": DAY, **filters})
    assert page.context["totals"].calls == count


def test_history_exports_the_filtered_set(day_of_calls, alice):
    client = Client()
    client.force_login(alice)
    query = {"date_from": DAY, "date_to": DAY, "queue": "631"}
    response = client.get(reverse("calls:history"), {**query, "export": "csv"})
    rows = export_rows(response, "csv")
    assert [r["caller"] for r in rows] == ["905441112233", "905441112233"]
    assert {r["result"] for r in rows} == {"ANSWERED", "BUSY"}
    xlsx = client.get(reverse("calls:history"), {**query, "export": "xlsx"})
    sheet = export_rows(xlsx, "xlsx")
    assert [(r["caller"], r["result"]) for r in sheet] == [(r["caller"], r["result"]) for r in rows]


def test_past_the_xlsx_row_limit_the_page_says_how_many_and_suggests_csv(
    day_of_calls, alice, monkeypatch
):
    monkeypatch.setattr(exports, "XLSX_ROW_LIMIT", 5)
    client = Client()
    client.force_login(alice)
    query = {"date_from": DAY, "date_to": DAY}

    response = client.get(reverse("calls:history"), {**query, "export": "xlsx"}, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("calls:history") + "?date_from=")
    assert "export" not in response.redirect_chain[-1][0]
    [message] = [str(m) for m in response.context["messages"]]
    assert "9" in message and "5" in message and "CSV" in message
    assert 'id="xlsx-too-many"' in response.content.decode()
    # CSV has no limit.
    assert (
        len(export_rows(client.get(reverse("calls:history"), {**query, "export": "csv"}), "csv"))
        == 9
    )


def test_an_export_read_in_chunks_holds_every_call_once_in_order(alice, monkeypatch):
    # Calls starting in the same second straddle the chunks' boundaries.
    for minute in (1, 2, 2, 2, 2, 2, 3, 3, 4, 5, 5, 5, 5):
        record(8, minute, src=f"90532{next(_ids):07d}")
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)
    client = Client()
    client.force_login(alice)
    query = {"date_from": DAY, "date_to": DAY}

    rows = export_rows(client.get(reverse("calls:history"), {**query, "export": "csv"}), "csv")

    expected = CallRecord.objects.order_by("-calldate", "-id").values_list("src", flat=True)
    assert [r["caller"] for r in rows] == list(expected)
    assert len({r["caller"] for r in rows}) == 13


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_callbacks_export_holds_what_the_page_shows(alice, file_format):
    customer_create(name="Ayşe", phones=["0532 123 45 67"])
    record(9, 0, src="905441112233", disposition="NO ANSWER")
    record(9, 10, src="905321234567", disposition="NO ANSWER")
    record(9, 20, src="905321234567", disposition="BUSY")
    client = Client()
    client.force_login(alice)
    shown = client.get(reverse("calls:callbacks")).context["rows"]

    rows = export_rows(client.get(reverse("calls:callbacks"), {"export": file_format}), file_format)

    assert [(r["number"], r["customer"], r["missed_calls"]) for r in rows] == [
        (row.number, row.customer_name, str(row.missed)) for row in shown
    ]
    assert rows[0]["last_missed_call"] == f"{DAY:%Y-%m-%d} 09:20:00"


def test_history_is_paginated(alice):
    for minute in range(55):
        record(8, minute)
    client = Client()
    client.force_login(alice)
    first = client.get(reverse("calls:history"), {"date_from": DAY, "date_to": DAY})
    assert len(first.context["page"]) == 50 and first.context["totals"].calls == 55
    second = client.get(reverse("calls:history"), {"date_from": DAY, "date_to": DAY, "page": 2})
    assert len(second.context["page"]) == 5


def test_a_missed_caller_waits_for_a_callback_until_answered(alice):
    record(9, 0, src="905441112233", disposition="NO ANSWER")
    record(9, 5, src="905441112233", disposition="BUSY")
    record(9, 10, src="905321234567", disposition="NO ANSWER")
    client = Client()
    client.force_login(alice)
    pending = client.get(reverse("calls:callbacks")).context["rows"]
    assert [(r.number, r.missed) for r in pending] == [
        ("+905321234567", 1),
        ("+905441112233", 2),
    ]
    # Ayşe's number is called back (an answered outbound call): it leaves the list.
    record(11, 0, direction="out", src="110", dst="905441112233")
    pending = client.get(reverse("calls:callbacks")).context["rows"]
    assert [r.number for r in pending] == ["+905321234567"]
    # The other is marked done by hand.
    client.post(reverse("calls:callback-done"), {"number": "+905321234567"})
    assert client.get(reverse("calls:callbacks")).context["rows"] == []


def test_the_screen_pop_card_carries_the_callers_history(alice):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    record(9, 0)
    record(9, 30, disposition="NO ANSWER")
    assert CallRecord.objects.filter(customer=ayse).count() == 2  # linked as they were stored
    card = caller_card("905321234567")
    assert len(card["recent_calls"]) == 2
    assert f"{DAY:%d.%m} 09:30" in card["recent_calls"][0]["text"]
    assert card["summary"]  # "called N times today" (the calls above were not today)


def test_the_customer_admin_page_shows_their_calls(alice, sam):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    record(9, 0)
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("admin:customers_customer_change", args=[ayse.pk]))
    assert 'id="customer-timeline"' in page.content.decode()
    assert len(page.context["timeline"]["recent"]) == 1


def test_every_history_page_needs_a_login(client):
    for name in ("calls:history", "calls:callbacks", "calls:stats"):
        assert client.get(reverse(name)).status_code in (302, 403)


def test_talk_time_and_today_counts_use_local_days(alice):
    record(0, 30)  # 00:30 in Istanbul is 21:30 UTC the day before
    assert build_stats(DAY, DAY).totals.calls == 1
    assert build_stats(DAY - timedelta(days=1), DAY - timedelta(days=1)).totals.calls == 0


def _text(html: str, element_id: str, end: str = "</table>") -> str:
    """The words of one element of a page (up to `end`), tags left out."""
    start = html.index(f'id="{element_id}"')
    return " ".join(re.sub(r"<[^>]+>", " ", html[start : html.index(end, start)]).split())


def test_history_reads_as_people_write_results_numbers_and_durations(alice):
    record(9, 0, disposition="NO ANSWER", duration=12448)
    record(9, 5, direction="out", src="110", dst="442071234567", duration=85.6972)
    client = Client()
    client.force_login(alice)

    page = client.get(reverse("calls:history"), {"date_from": DAY, "date_to": DAY})

    html = page.content.decode()
    table = _text(html, "history-table")
    assert "cevaplanmadı" in table and "cevaplandı" in table  # Turkish by default
    assert "NO ANSWER" not in table and "ANSWERED" not in table
    assert "0532 123 45 67" in table and "+44 20 7123 4567" in table
    assert "905321234567" not in table
    assert "3:27:28" in table and "1:25" in table and " s " not in f"{table} "
    totals = _text(html, "totals", "</section>")
    assert "1:25" in totals and "saniye" not in totals  # the answered call's talk


def test_the_customer_admin_timeline_reads_as_the_history_does(sam):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    record(9, 0, disposition="NO ANSWER", duration=754)
    client = Client()
    client.force_login(sam)

    page = client.get(reverse("admin:customers_customer_change", args=[ayse.pk]))

    timeline = _text(page.content.decode(), "customer-timeline")
    assert "cevaplanmadı" in timeline and "NO ANSWER" not in timeline
    assert "0532 123 45 67" in timeline and "905321234567" not in timeline
    assert "12:34" in timeline


def test_the_stats_page_gives_talk_times_as_durations(day_of_calls, sam):
    client = Client()
    client.force_login(sam)

    page = client.get(reverse("calls:stats"), {"date_from": DAY, "date_to": DAY})

    html = page.content.decode()
    assert "1:40" in html and "5:00" in html  # 600 s over six answered calls; the longest
    assert not re.search(r"\d s<", html)


def test_the_screen_pop_gives_long_calls_in_hours(alice):
    customer_create(name="Ayşe", phones=["0532 123 45 67"])
    record(9, 0, duration=12448)
    [call] = caller_card("905321234567")["recent_calls"]
    assert call["text"].endswith("· 3:27:28")
