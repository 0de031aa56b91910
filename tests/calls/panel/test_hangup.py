"""Hanging up from the panel: permission on the server, live channels only, audited, then a poll."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from calls.history.cdr_sync import sync_recent
from calls.live.poll import poll_active_calls
from calls.live.snapshot import read_snapshot
from calls.models import CallRecord, HangupAttempt
from tests.support.db_faults import refusing
from tests.support.pbx import PBX_PASSWORD
from tests.support.personas import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

URL = reverse("calls:hangup")


@pytest.fixture
def live_call(pbx_settings) -> str:
    """A call that the panel has seen (it is in the live snapshot)."""
    channel = pbx_settings.sim.add_call("905321234567", "110", callinfo="Konuşuyor")
    poll_active_calls()
    pbx_settings.sim.clear_request_log()
    return channel


def hangups_at_the_pbx(pbx_settings) -> list[str]:
    return [e.params["channel"] for e in pbx_settings.sim.request_log() if e.action == "hangupcall"]


def test_a_supervisor_ends_a_call_and_it_leaves_the_panel(
    pbx_settings, sam, live_call, live_redis, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(sam).post(URL, {"channel": live_call})

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert hangups_at_the_pbx(pbx_settings) == [live_call]
    # An immediate poll was queued on the real broker, not left for the next beat.
    [queued] = live_redis.lrange("celery", 0, -1)
    headers = json.loads(queued)["headers"]
    assert headers["task"] == "calls.poll_active_calls"
    assert "'retry_if_busy': True" in headers["kwargsrepr"]
    poll_active_calls()
    assert live_call not in read_snapshot().calls
    attempt = HangupAttempt.objects.get()
    assert (attempt.username, attempt.channel, attempt.result) == ("sam", live_call, "ok")
    assert (attempt.src, attempt.dst) == ("905321234567", "110")
    assert '"success": true' in attempt.pbx_answer


def test_an_agent_is_refused_and_nothing_reaches_the_pbx(pbx_settings, alice, live_call):
    response = logged_in(alice).post(URL, {"channel": live_call})
    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert hangups_at_the_pbx(pbx_settings) == []
    assert HangupAttempt.objects.get().result == HangupAttempt.Result.FORBIDDEN
    assert live_call in read_snapshot().calls


def test_an_unknown_channel_is_not_found_and_never_sent(pbx_settings, sam, live_call):
    # Forged channels that cannot be channels at all: tests/security/test_hangup_forgery.py.
    for unknown in ["SIP/nope-1", "x&action=cdr", "../../etc"]:
        response = logged_in(sam).post(URL, {"channel": unknown})
        assert response.status_code == 404
    assert hangups_at_the_pbx(pbx_settings) == []
    assert set(HangupAttempt.objects.values_list("result", flat=True)) == {"not_found"}


def test_a_pbx_refusal_is_reported_in_words_without_secrets(pbx_settings, sam, live_call):
    pbx_settings.sim.set_fault("success_false")
    response = logged_in(sam).post(URL, {"channel": live_call})
    assert response.status_code == 502
    error = response.json()["error"]
    assert "03: Domain adı hatalı" in error
    assert PBX_PASSWORD not in response.content.decode()
    attempt = HangupAttempt.objects.get()
    assert attempt.result == HangupAttempt.Result.PBX_ERROR
    assert PBX_PASSWORD not in attempt.pbx_answer


def test_an_unreadable_answer_counts_as_success_once_the_call_is_gone(pbx_settings, sam, live_call):
    pbx_settings.sim.set_fault("truncated", count=1)  # the PBX ends the call but garbles its answer
    response = logged_in(sam).post(URL, {"channel": live_call})
    assert response.status_code == 200
    attempt = HangupAttempt.objects.get()
    assert attempt.result == HangupAttempt.Result.OK
    assert "invalid JSON" in attempt.pbx_answer
    assert '[{"success": true' in attempt.pbx_answer  # the raw (cut) answer is kept


def test_an_unreadable_answer_with_the_call_still_up_is_an_error(pbx_settings, sam, live_call):
    pbx_settings.sim.set_fault("html", count=1)  # an error page; the call goes on
    response = logged_in(sam).post(URL, {"channel": live_call})
    assert response.status_code == 502
    assert HangupAttempt.objects.get().result == HangupAttempt.Result.PBX_ERROR


def test_an_anonymous_request_is_refused(pbx_settings, live_call):
    response = Client().post(URL, {"channel": live_call})
    assert response.status_code == 403
    assert hangups_at_the_pbx(pbx_settings) == []


def test_a_request_without_csrf_token_is_refused(pbx_settings, sam, live_call):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sam)
    assert client.post(URL, {"channel": live_call}).status_code == 403
    assert hangups_at_the_pbx(pbx_settings) == []


def test_only_post_is_accepted(sam, live_call):
    assert logged_in(sam).get(URL, {"channel": live_call}).status_code == 405


def test_the_audit_trail_is_read_only_in_admin(pbx_settings, sam, live_call):
    logged_in(sam).post(URL, {"channel": live_call})
    admin = logged_in(sam)
    attempt = HangupAttempt.objects.get()
    assert admin.get(reverse("admin:calls_hangupattempt_changelist")).status_code == 200
    page = admin.get(reverse("admin:calls_hangupattempt_change", args=[attempt.pk]))
    assert page.status_code == 200
    assert b'name="channel"' not in page.content  # shown, not editable
    assert admin.get(reverse("admin:calls_hangupattempt_add")).status_code == 403


def test_when_the_audit_trail_cannot_be_written_the_call_is_not_ended(pbx_settings, sam, live_call):
    with refusing("insert", "calls_hangupattempt"):
        response = logged_in(sam).post(URL, {"channel": live_call})
    assert response.status_code == 503
    assert hangups_at_the_pbx(pbx_settings) == []  # the PBX was never asked
    assert [c["channel"] for c in pbx_settings.sim.active_calls()] == [live_call]


def test_the_audit_row_is_written_before_the_pbx_is_asked_and_kept_if_the_outcome_is_not(
    pbx_settings, sam, live_call
):
    with refusing("update", "calls_hangupattempt"):
        response = logged_in(sam).post(URL, {"channel": live_call})
    assert response.status_code == 200  # the call did end, and the supervisor is told so
    assert hangups_at_the_pbx(pbx_settings) == [live_call]
    attempt = HangupAttempt.objects.get()
    assert (attempt.username, attempt.channel) == ("sam", live_call)
    assert attempt.result == HangupAttempt.Result.PENDING  # the record of a call ended


def test_numbers_longer_than_their_columns_are_cut_as_the_history_cuts_them(pbx_settings, sam):
    # PostgreSQL refuses text longer than a column: the audit row was lost with the request.
    long_src, long_dst = "90532" + "1" * 120, "1" * 100
    channel = pbx_settings.sim.add_call(long_src, long_dst, callinfo="Konuşuyor")
    poll_active_calls()
    response = logged_in(sam).post(URL, {"channel": channel})
    assert response.status_code == 200
    sync_recent()  # the same call in the history

    attempt, record = HangupAttempt.objects.get(), CallRecord.objects.get()
    assert (attempt.src, attempt.dst) == (record.src, record.dst)
    assert (len(attempt.src), len(attempt.dst)) == (64, 64)
    assert long_src.startswith(attempt.src)
