"""Where an agent's note and wrap-up code show once the call's CDR row has joined its tracked call:
the history page (a column and a filter) and its exports, the caller's recent calls in the
screen-pop and the customer's admin page, and the statistics per day, queue and extension."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from calls.history.wrap_up_stats import wrap_up_report
from calls.models import CallRecord, CallWork, FollowUp, TrackedCall, WrapUpCode
from calls.panel.caller_card import caller_card
from customers.services import customer_create
from tests.support.export_files import export_rows
from tests.support.personas import logged_in

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Europe/Istanbul")
DAY = (datetime.now(IST) - timedelta(days=1)).date()
AYSE = "905321234567"
_ids = itertools.count(1)


@pytest.fixture
def codes() -> dict[str, WrapUpCode]:
    return {
        "sale": WrapUpCode.objects.create(name_tr="Satış", name_en="Sale", colour="#16a34a"),
        "complaint": WrapUpCode.objects.create(name_tr="Şikâyet", name_en="Complaint"),
    }


def worked_call(hour: int, *, code=None, note="", dst="110", queue="", author=None) -> CallRecord:
    """A finished call, joined to the call the poller saw, with the agent's work on it."""
    started = datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=IST)
    pk = next(_ids)
    record = CallRecord.objects.create(
        pbx_id=str(pk), calldate=started, direction="in", src=AYSE, dst=dst,
        outside_number="+" + AYSE, duration=60, disposition="ANSWERED", queue=queue,
    )  # fmt: skip
    call = TrackedCall.objects.create(
        channel=f"SIP/trunk-{pk}", src=AYSE, dst=queue or dst, queue=queue, started_at=started,
        ended_at=started + timedelta(minutes=1), record=record,
    )  # fmt: skip
    if code or note:
        CallWork.objects.create(
            call=call, note=note, wrap_up=code, author=author,
            author_name=author.username if author else "alice",
        )  # fmt: skip
    return record


def history(client: Client, **query) -> str:
    query = {"date_from": DAY.isoformat(), "date_to": DAY.isoformat(), **query}
    return client.get(reverse("calls:history"), query).content.decode()


def test_the_history_shows_each_call_s_note_and_code_and_filters_by_code(alice, codes):
    worked_call(9, code=codes["sale"], note="Yıllık paket aldı")
    worked_call(10, code=codes["complaint"], note="Fatura hatalı")
    worked_call(11)  # no work on it

    page = history(logged_in(alice))
    assert "Yıllık paket aldı" in page and "Satış" in page and "Fatura hatalı" in page
    only_sales = history(logged_in(alice), wrap_up=codes["sale"].pk)
    assert "Yıllık paket aldı" in only_sales and "Fatura hatalı" not in only_sales
    assert history(logged_in(alice), wrap_up="nonsense").count("record-row") == 0


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_exports_carry_the_note_and_the_code(alice, codes, file_format):
    worked_call(9, code=codes["complaint"], note='=HYPERLINK("x")')
    worked_call(10)
    response = logged_in(alice).get(
        reverse("calls:history"),
        {"date_from": DAY.isoformat(), "date_to": DAY.isoformat(), "export": file_format},
    )
    rows = export_rows(response, file_format)
    assert [(row["wrap_up"], row["note"]) for row in rows] == [
        ("", ""),
        ("Şikâyet", '\'=HYPERLINK("x")'),  # a formula is written as text, like every cell
    ]


def test_the_caller_s_recent_calls_and_the_customer_page_show_the_work(alice, codes):
    customer = customer_create(name="Ayşe Yılmaz", phones=["0532 123 45 67"])
    worked_call(9, code=codes["sale"], note="Yıllık paket aldı")

    [recent] = caller_card(AYSE)["recent_calls"]
    assert recent["note"] == "Yıllık paket aldı"
    assert recent["wrap_up"] == {"name": "Satış", "colour": "#16a34a"}

    admin = get_user_model().objects.create_superuser("root", password="root-pass-123")
    page = logged_in(admin).get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert "Yıllık paket aldı" in page.content.decode()


def test_the_customer_s_timeline_shows_each_call_s_follow_ups_and_the_open_ones(alice, sam):
    """In the pop and on the admin page: a call's follow-ups under it (done or not), and open
    follow-ups whose call has no history row yet (the CDR sync comes later) above the calls."""
    customer = customer_create(name="Ayşe Yılmaz", phones=["0532 123 45 67"])
    record = worked_call(9, note="Fiyat sordu")
    due = datetime(DAY.year, DAY.month, DAY.day, 15, tzinfo=IST)
    FollowUp.objects.create(
        call=record.tracked_call, number="+" + AYSE, customer=customer, due_at=due,
        assignee=sam, created_by=alice, note="Teklifi gönder", done_at=due, done_by=sam,
    )  # fmt: skip
    live_only = TrackedCall.objects.create(
        channel="SIP/trunk-live", src=AYSE, dst="110", started_at=due, ended_at=due
    )
    FollowUp.objects.create(
        call=live_only, number="+" + AYSE, due_at=due + timedelta(days=1), assignee=alice,
        created_by=alice, note="Sözleşmeyi sor",
    )  # fmt: skip
    FollowUp.objects.create(  # someone else's number: not on Ayşe's timeline
        number="+905329998877", due_at=due, assignee=alice, note="Başkası"
    )

    card = caller_card(AYSE)
    [recent] = card["recent_calls"]
    [on_call] = recent["follow_ups"]
    assert (on_call["note"], on_call["assignee"]) == ("Teklifi gönder", "sam")
    assert on_call["done"] is True
    assert [f["note"] for f in card["open_follow_ups"]] == ["Sözleşmeyi sor"]

    admin = get_user_model().objects.create_superuser("root", password="root-pass-123")
    page = logged_in(admin).get(reverse("admin:customers_customer_change", args=[customer.pk]))
    text = page.content.decode()
    assert "Teklifi gönder" in text and "Sözleşmeyi sor" in text
    assert "Başkası" not in text


def test_the_statistics_count_codes_per_day_queue_and_extension(sam, codes):
    worked_call(9, code=codes["sale"], dst="110", queue="630")
    worked_call(10, code=codes["sale"], dst="111", queue="630")
    worked_call(11, code=codes["complaint"], dst="110")
    worked_call(12)  # no code: not counted

    report = wrap_up_report(DAY, DAY)
    assert [code.name_tr for code in report.codes] == ["Satış", "Şikâyet"]
    assert [(row.name, row.counts) for row in report.per_day] == [
        (DAY.strftime("%d.%m.%Y"), [2, 1])
    ]
    assert [(row.name, row.counts) for row in report.per_queue] == [("630", [2, 0]), ("—", [0, 1])]
    assert [(row.name, row.counts) for row in report.per_extension] == [
        ("110", [1, 1]),
        ("111", [1, 0]),
    ]
    page = logged_in(sam).get(
        reverse("calls:stats"), {"date_from": DAY.isoformat(), "date_to": DAY.isoformat()}
    )
    assert 'id="wrap-up-stats"' in page.content.decode() and "Şikâyet" in page.content.decode()
