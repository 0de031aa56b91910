"""The agent's work on a call (calls.work): written while the call is live, kept on its history
row, changed only by whom the rules allow, every change recorded. Real poll and CDR sync against
the simulator over HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from calls.history.cdr_sync import sync_recent
from calls.live.poll import poll_active_calls
from calls.live.snapshot import read_snapshot
from calls.models import CallRecord, CallWork, CallWorkChange, TrackedCall, WrapUpCode, WrapUpQueue
from calls.work.saving import save_work
from tests.support import personas
from tests.support.personas import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

AYSE = "905321234567"


def url(key: str) -> str:
    return reverse("calls:call-work", args=[key])


@pytest.fixture
def ringing(pbx_settings) -> str:
    """The key of a call ringing at queue 630, as the live panel knows it."""
    channel = pbx_settings.sim.add_call(AYSE, "630", callinfo="Çalıyor", calltype="Kuyruk(630)")
    poll_active_calls()
    return read_snapshot().calls[channel].key


@pytest.fixture
def resolved() -> WrapUpCode:
    return WrapUpCode.objects.create(name_tr="Çözüldü", name_en="Resolved", colour="#16a34a")


@pytest.fixture
def bob(db):
    """Another agent."""
    return personas.create(personas.Persona("bob", "bob-pass-123", "Agents"))


def test_a_note_written_while_the_call_rings_is_on_its_history_row_after_the_sync(
    pbx_settings, alice, ringing, resolved
):
    agent = logged_in(alice)
    saved = agent.post(url(ringing), {"note": "İade istiyor"})
    assert saved.status_code == 200, saved.content
    assert (saved.json()["note"], saved.json()["author"]) == ("İade istiyor", "alice")

    [channel] = read_snapshot().calls
    pbx_settings.sim.end_call(channel, disposition="ANSWERED")
    poll_active_calls()
    # After the call: the wrap-up, then the sync brings its row.
    finished = agent.post(url(ringing), {"wrap_up": resolved.pk, "finish": "1"})
    assert finished.status_code == 200, finished.content
    sync_recent()

    record = CallRecord.objects.get()
    assert record.tracked_call.key.hex == ringing
    assert (record.tracked_call.work.note, record.tracked_call.work.wrap_up) == (
        "İade istiyor",
        resolved,
    )


def test_a_live_call_the_database_has_not_noted_yet_takes_a_note_all_the_same(alice, ringing):
    TrackedCall.objects.all().delete()  # as when the poll could not reach the database
    saved = logged_in(alice).post(url(ringing), {"note": "Geri arayacak"})
    assert saved.status_code == 200, saved.content
    assert TrackedCall.objects.get(key=ringing).work.note == "Geri arayacak"


def test_typing_saves_are_one_change_and_each_person_s_changes_are_kept(alice, sam, ringing):
    agent = logged_in(alice)
    for note in ("İade", "İade ist", "İade istiyor"):  # saves as she types
        assert agent.post(url(ringing), {"note": note}).status_code == 200
    assert (
        logged_in(sam).post(url(ringing), {"note": "İade istiyor (onaylandı)"}).status_code == 200
    )

    changes = list(CallWorkChange.objects.values_list("username", "note_before", "note_after"))
    assert changes == [
        ("alice", "", "İade istiyor"),
        ("sam", "İade istiyor", "İade istiyor (onaylandı)"),
    ]
    assert CallWork.objects.get().author_name == "alice"  # who wrote it stays


def test_another_agent_cannot_change_a_note_a_supervisor_can(alice, bob, sam, ringing):
    assert logged_in(alice).post(url(ringing), {"note": "Alice yazdı"}).status_code == 200

    refused = logged_in(bob).post(url(ringing), {"note": "Bob yazdı"})
    assert refused.status_code == 403
    assert logged_in(bob).get(url(ringing)).json()["may_write"] is False
    assert logged_in(sam).post(url(ringing), {"note": "Sam düzeltti"}).status_code == 200
    assert CallWork.objects.get().note == "Sam düzeltti"


def test_an_agent_changes_their_note_only_until_the_edit_time_after_the_call_ended(
    settings, alice, ringing
):
    settings.TELSAM_NOTE_EDIT_MINUTES = 30
    agent = logged_in(alice)
    assert agent.post(url(ringing), {"note": "İlk"}).status_code == 200
    call = TrackedCall.objects.get(key=ringing)

    call.ended_at = timezone.now() - timedelta(minutes=29)
    call.save()
    assert agent.post(url(ringing), {"note": "İkinci"}).status_code == 200
    call.ended_at = timezone.now() - timedelta(minutes=31)
    call.save()
    assert agent.post(url(ringing), {"note": "Üçüncü"}).status_code == 403
    assert CallWork.objects.get().note == "İkinci"


def test_a_queue_that_requires_a_code_does_not_finish_a_wrap_up_without_one(
    alice, ringing, resolved
):
    WrapUpQueue.objects.create(queue="630", code_required=True)
    agent = logged_in(alice)
    assert agent.get(url(ringing)).json()["code_required"] is True

    refused = agent.post(url(ringing), {"note": "Not", "finish": "1"})
    assert refused.status_code == 400
    assert not CallWork.objects.exists()  # a refused save changes nothing (the page autosaves
    # the note on its own, so it is never lost to a refused wrap-up)

    done = agent.post(url(ringing), {"note": "Not", "wrap_up": resolved.pk, "finish": "1"})
    assert done.status_code == 200
    assert done.json()["wrapped_up_at"] is not None
    assert done.json()["wrap_up"] == {"id": resolved.pk, "name": "Çözüldü", "colour": "#16a34a"}


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"note": "x" * 5001}, 400),
        ({"wrap_up": "abc"}, 400),
        ({"wrap_up": "999999"}, 400),
        ({"finish": "maybe"}, 200),  # a checkbox: anything but empty is on, as in any form
    ],
    ids=["note too long", "code not a number", "no such code", "odd checkbox"],
)
def test_a_bad_field_gets_a_clear_400_and_changes_nothing(alice, ringing, data, status):
    response = logged_in(alice).post(url(ringing), data)
    assert response.status_code == status
    if status == 400:
        assert response.json()["ok"] is False and response.json()["error"]
        assert not CallWork.objects.exists()


def test_an_inactive_code_cannot_be_picked(alice, ringing, resolved):
    resolved.active = False
    resolved.save()
    assert logged_in(alice).post(url(ringing), {"wrap_up": resolved.pk}).status_code == 400
    assert logged_in(alice).get(url(ringing)).json()["codes"] == []


def test_an_unknown_call_is_404_and_a_key_that_is_no_key_matches_no_page(alice):
    agent = logged_in(alice)
    assert agent.get(url("0" * 32)).status_code == 404
    assert agent.get("/calls/not-a-key/work/").status_code == 404
    assert agent.get("/calls/" + "A" * 32 + "/work/").status_code == 404


def test_codes_are_named_in_the_page_s_language_in_their_order(alice, ringing):
    WrapUpCode.objects.create(name_tr="Satış", name_en="Sale", order=2)
    WrapUpCode.objects.create(name_tr="Şikâyet", name_en="Complaint", order=1)
    agent = logged_in(alice)
    assert [c["name"] for c in agent.get(url(ringing)).json()["codes"]] == ["Şikâyet", "Satış"]
    agent.cookies["django_language"] = "en"  # as the language switch leaves it
    assert [c["name"] for c in agent.get(url(ringing)).json()["codes"]] == ["Complaint", "Sale"]


def test_an_account_without_the_role_reads_and_writes_nothing(db, ringing):
    nobody = get_user_model().objects.create_user("nobody", password="nobody-pass-1")
    assert logged_in(nobody).get(url(ringing)).status_code == 403
    viewer = get_user_model().objects.create_user("viewer", password="viewer-pass-1")
    viewer.user_permissions.add(
        *Group.objects.get(name="Agents").permissions.filter(codename="view_callrecord")
    )
    assert logged_in(viewer).post(url(ringing), {"note": "x"}).status_code == 403
    assert not CallWork.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_first_saves_at_once_both_land_on_one_work(alice, ringing):
    # Two tabs of Alice's save the call's first note at the same moment.
    call = TrackedCall.objects.get(key=ringing)
    start = threading.Barrier(2)
    answers: list[object] = []

    def save(note: str) -> None:
        start.wait()
        try:
            answers.append(save_work(call, alice, note=note, now=timezone.now()))
        except Exception as exc:
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(note,)) for note in ("bir", "iki")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(isinstance(answer, CallWork) for answer in answers), answers
    assert CallWork.objects.count() == 1
    assert CallWork.objects.get().note in ("bir", "iki")
