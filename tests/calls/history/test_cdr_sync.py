"""Call history sync: the simulator's CDR over real HTTP into CallRecord, idempotently."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.history.cdr_sync import sync_recent, sync_window
from calls.history.records import mark_called_back
from calls.models import CallRecord, PendingCallback
from customers.models import PhoneNumber
from customers.services import customer_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

IST = ZoneInfo("Europe/Istanbul")
AFTERNOON = datetime(2026, 11, 27, 15, 42, 7, tzinfo=IST)  # 15:xx catches 12-hour formats


def window(sim_start: datetime, minutes: int = 60) -> tuple[datetime, datetime]:
    return sim_start - timedelta(minutes=5), sim_start + timedelta(minutes=minutes)


def test_sync_stores_calls_with_the_pbx_fields_parsed(pbx_settings):
    sim = pbx_settings.sim
    sim.add_cdr("905321234567", "110", started_at=AFTERNOON, duration=85.6972, queue="630")
    sim.add_cdr("101", "905441112233", started_at=AFTERNOON, duration=4.39364, disposition="BUSY")

    summary = sync_window(*window(AFTERNOON))

    assert (summary.fetched, summary.new, summary.skipped) == (2, 2, 0)
    inbound = CallRecord.objects.get(src="905321234567")
    assert inbound.calldate == AFTERNOON  # Istanbul time, aware
    assert inbound.duration == pytest.approx(85.6972, abs=1e-3)  # the comma decimal
    assert (inbound.direction, inbound.queue, inbound.outside_number) == (
        "in",
        "630",
        "+905321234567",
    )
    outbound = CallRecord.objects.get(dst="905441112233")
    assert (outbound.direction, outbound.disposition) == ("out", "BUSY")  # "outcoming"
    assert outbound.outside_number == "+905441112233"


def test_sync_is_idempotent(pbx_settings):
    for minute in range(5):
        pbx_settings.sim.add_cdr(
            "905321234567", "110", started_at=AFTERNOON + timedelta(minutes=minute)
        )
    first = sync_window(*window(AFTERNOON))
    second = sync_window(*window(AFTERNOON))
    assert (first.new, second.new, second.updated) == (5, 0, 0)
    assert CallRecord.objects.count() == 5


def test_overlapping_windows_do_not_duplicate(pbx_settings):
    for minute in range(0, 60, 10):
        pbx_settings.sim.add_cdr(
            "905321234567", "110", started_at=AFTERNOON + timedelta(minutes=minute)
        )
    sync_window(AFTERNOON - timedelta(minutes=1), AFTERNOON + timedelta(minutes=35))
    sync_window(AFTERNOON + timedelta(minutes=15), AFTERNOON + timedelta(minutes=70))
    assert CallRecord.objects.count() == 6


def test_a_malformed_row_is_skipped_and_the_others_kept(pbx_settings):
    sim = pbx_settings.sim
    sim.add_cdr("905321234567", "110", started_at=AFTERNOON)
    sim.add_cdr("905321234568", "110", started_at=AFTERNOON, overrides={"calldate": "yesterday"})
    sim.add_cdr("905321234569", "110", started_at=AFTERNOON, overrides={"duration": "12,5,3"})
    sim.add_cdr("905321234560", "110", started_at=AFTERNOON)
    summary = sync_window(*window(AFTERNOON))
    assert (summary.fetched, summary.new, summary.skipped) == (4, 2, 2)
    assert set(CallRecord.objects.values_list("src", flat=True)) == {"905321234567", "905321234560"}


def test_the_missing_space_date_variant_is_understood(pbx_settings):
    pbx_settings.sim.add_cdr(
        "905321234567", "110", started_at=AFTERNOON, overrides={"calldate": "27.11.202615:42:07"}
    )
    sync_window(*window(AFTERNOON))
    assert CallRecord.objects.get().calldate == AFTERNOON


def test_a_changed_row_at_the_pbx_is_updated(pbx_settings):
    pbx_settings.sim.add_cdr("905321234567", "110", started_at=AFTERNOON, userfield="first")
    sync_window(*window(AFTERNOON))
    pbx_settings.sim.reset()
    pbx_settings.sim.add_cdr(
        "905321234567",
        "110",
        started_at=AFTERNOON,
        overrides={"id": CallRecord.objects.get().pbx_id, "userfield": "second"},
    )
    summary = sync_window(*window(AFTERNOON))
    assert (summary.new, summary.updated) == (0, 1)
    assert CallRecord.objects.get().userfield == "second"


def test_re_reading_unchanged_rows_leaves_the_callbacks_alone(pbx_settings, sam):
    """The sweep re-reads a day of rows every hour: rebuilding the callbacks of every number it
    saw would race an agent's "called back" click and bring the callback back."""
    sim, missed_at = pbx_settings.sim, timezone.now() - timedelta(hours=2)
    sim.add_cdr("905321234567", "110", started_at=missed_at, disposition="NO ANSWER")
    sim.add_cdr("905441112233", "110", started_at=missed_at, disposition="NO ANSWER")
    sync_window(*window(missed_at))
    assert PendingCallback.objects.count() == 2
    mark_called_back("+905441112233", sam)

    with CaptureQueriesContext(connection) as queries:
        summary = sync_window(*window(missed_at))  # the same rows again, unchanged

    assert (summary.new, summary.updated) == (0, 0)
    assert not [q for q in queries if PendingCallback._meta.db_table in q["sql"]]
    assert list(PendingCallback.objects.values_list("number", flat=True)) == ["+905321234567"]


def test_a_row_that_changes_refreshes_its_callback(pbx_settings):
    sim, missed_at = pbx_settings.sim, timezone.now() - timedelta(hours=2)
    sim.add_cdr("905321234567", "110", started_at=missed_at, disposition="NO ANSWER")
    sync_window(*window(missed_at))
    assert PendingCallback.objects.filter(number="+905321234567").exists()
    sim.reset()
    sim.add_cdr(  # the PBX corrects the row: the call was answered after all
        "905321234567",
        "110",
        started_at=missed_at,
        disposition="ANSWERED",
        overrides={"id": CallRecord.objects.get().pbx_id},
    )
    assert sync_window(*window(missed_at)).updated == 1
    assert not PendingCallback.objects.exists()


def test_calls_link_to_the_customer_and_follow_number_changes(
    pbx_settings, django_capture_on_commit_callbacks
):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    pbx_settings.sim.add_cdr("905321234567", "110", started_at=AFTERNOON)
    pbx_settings.sim.add_cdr("905559998877", "110", started_at=AFTERNOON)
    sync_window(*window(AFTERNOON))
    assert CallRecord.objects.get(src="905321234567").customer == ayse
    assert CallRecord.objects.get(src="905559998877").customer is None

    # A number added later links the old calls; a number removed unlinks them.
    with django_capture_on_commit_callbacks(execute=True):
        can = customer_create(name="Can", phones=["0555 999 88 77"])
    assert CallRecord.objects.get(src="905559998877").customer == can
    with django_capture_on_commit_callbacks(execute=True):
        PhoneNumber.objects.filter(customer=ayse).delete()
    assert CallRecord.objects.get(src="905321234567").customer is None


def test_the_periodic_sync_catches_up_after_a_failed_window(pbx_settings):
    now = datetime(2026, 11, 27, 16, 0, tzinfo=IST)
    sync_recent(now=now)
    pbx_settings.sim.add_cdr("905321234567", "110", started_at=now + timedelta(minutes=5))
    pbx_settings.sim.set_fault("http_500", count=3)
    for minutes in (10, 20, 30):  # three failed runs: 30 minutes of history not yet fetched
        with pytest.raises(Exception, match="HTTP 500"):
            sync_recent(now=now + timedelta(minutes=minutes))
    summary = sync_recent(now=now + timedelta(minutes=40))  # the 15-minute window would miss it
    assert summary.new == 1


def test_the_backfill_command_goes_day_by_day_and_summarises(pbx_settings, capsys):
    for day in range(3):
        pbx_settings.sim.add_cdr("905321234567", "110", started_at=AFTERNOON - timedelta(days=day))
    call_command("sync_cdr", "--from", "2026-11-25", "--to", "2026-11-27")
    out = capsys.readouterr().out
    assert "3/3 days" in out
    assert "fetched 3, new 3, updated 0, skipped 0" in out
    days = [e.params["date1"] for e in pbx_settings.sim.request_log() if e.action == "cdr"]
    assert len(days) == 3 and all(len(d) == 12 for d in days)


def test_the_backfill_command_reports_failed_days(pbx_settings, capsys):
    pbx_settings.sim.set_fault("http_500")
    with pytest.raises(CommandError, match="2 of 2 days failed"):
        call_command("sync_cdr", "--from", "2026-11-26", "--to", "2026-11-27")
