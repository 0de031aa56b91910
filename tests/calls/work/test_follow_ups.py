"""Follow-ups (calls.work.follow_ups and their endpoints): set on a call for oneself or a
colleague; bad input saves nothing and says why (in Turkish, the panel's language); listed for the
assignee's reminder once due; marked done only by the assignee or a supervisor."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.live.poll import poll_active_calls
from calls.live.snapshot import read_snapshot
from calls.models import FollowUp, TrackedCall
from customers.services import customer_create
from tests.support import personas
from tests.support.personas import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

AYSE = "905321234567"
AYSE_E164 = "+905321234567"


def create_url(key: str) -> str:
    return reverse("calls:follow-up-create", args=[key])


def done_url(follow_up: FollowUp) -> str:
    return reverse("calls:follow-up-done", args=[follow_up.pk])


def local(moment) -> str:
    """A moment as the page's time field gives it: local time, no offset, to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def call_between(src: str, dst: str) -> TrackedCall:
    return TrackedCall.objects.create(
        channel=f"SIP/{dst}-0001", src=src, dst=dst, started_at=timezone.now()
    )


@pytest.fixture
def inbound() -> TrackedCall:
    """Ayşe (a customer) called extension 110."""
    customer_create(name="Ayşe Yılmaz", company="", notes="", phones=["0532 123 45 67"])
    return call_between(AYSE, "110")


@pytest.fixture
def bob(db):
    """Another agent."""
    return personas.create(personas.Persona("bob", "bob-pass-123", "Agents"))


def set_follow_up(client: Client, call: TrackedCall, assignee, **fields):
    data = {
        "due_at": local(timezone.now() + timedelta(hours=2)),
        "assignee": assignee.pk,
        "note": "Fiyat teklifini soracak",
    }
    data.update(fields)
    return client.post(create_url(call.key.hex), data)


def make_due(follow_up: FollowUp) -> None:
    """Time passes: the follow-up's moment has come."""
    FollowUp.objects.filter(pk=follow_up.pk).update(due_at=timezone.now() - timedelta(seconds=1))


def test_a_follow_up_set_on_a_ringing_call_names_its_caller_and_customer(pbx_settings, alice, sam):
    customer = customer_create(name="Ayşe Yılmaz", company="", notes="", phones=["0532 123 45 67"])
    pbx_settings.sim.add_call(AYSE, "110", callinfo="Çalıyor")
    poll_active_calls()
    [live] = read_snapshot().calls.values()

    answer = logged_in(alice).post(
        create_url(live.key),
        {"due_at": local(timezone.now() + timedelta(hours=1)), "assignee": sam.pk, "note": "Ara"},
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["follow_up"]["customer"] == "Ayşe Yılmaz"
    assert answer.json()["follow_up"]["number_display"] == "0532 123 45 67"
    follow_up = FollowUp.objects.get()
    assert (follow_up.number, follow_up.customer, follow_up.assignee, follow_up.created_by) == (
        AYSE_E164,
        customer,
        sam,
        alice,
    )
    assert follow_up.call.key.hex == live.key


def test_an_outbound_call_is_called_back_on_the_number_that_was_dialled(alice):
    call = call_between("110", "05421112233")
    answer = set_follow_up(logged_in(alice), call, alice)
    assert answer.status_code == 200, answer.content
    assert FollowUp.objects.get().number == "+905421112233"


def test_a_time_without_an_offset_is_the_panels_local_time_and_an_offset_is_honoured(
    alice, inbound
):
    zone = ZoneInfo("Europe/Istanbul")
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(zone)
    tomorrow = tomorrow.replace(second=0, microsecond=0)
    client = logged_in(alice)
    set_follow_up(client, inbound, alice, due_at=tomorrow.strftime("%Y-%m-%dT%H:%M"))
    in_utc = tomorrow.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    set_follow_up(client, inbound, alice, due_at=in_utc)
    assert [f.due_at for f in FollowUp.objects.all()] == [tomorrow, tomorrow]


@pytest.mark.parametrize(
    ("due", "message"),
    [
        (timedelta(minutes=-1), "Geri arama zamanı ileride olmalı."),
        (timedelta(days=366), "Geri arama zamanı en çok bir yıl sonra olabilir."),
        ("yarın öğlen", "Geri arama zamanını tarih ve saat olarak girin."),
        ("", "Geri arama zamanını tarih ve saat olarak girin."),
    ],
)
def test_a_due_time_in_the_past_too_far_ahead_or_unreadable_is_refused(
    alice, inbound, due, message
):
    text = due if isinstance(due, str) else local(timezone.now() + due)
    answer = set_follow_up(logged_in(alice), inbound, alice, due_at=text)
    assert (answer.status_code, answer.json()["error"]) == (400, message)
    assert not FollowUp.objects.exists()


def test_only_an_active_colleague_holding_the_role_can_be_assigned(alice, inbound):
    no_role = get_user_model().objects.create_user("norole", password="x")
    gone = personas.create(personas.Persona("gone", "gone-pass-123", "Agents"))
    gone.is_active = False
    gone.save()
    client = logged_in(alice)
    for assignee in (no_role.pk, gone.pk, 9999, "alice", "9" * 30, ""):
        answer = client.post(
            create_url(inbound.key.hex),
            {"due_at": local(timezone.now() + timedelta(hours=1)), "assignee": assignee},
        )
        assert answer.status_code == 400, assignee
        assert answer.json()["error"] == "Geri arama alabilecek bir çalışma arkadaşı seçin."
    assert not FollowUp.objects.exists()


def test_a_call_between_extensions_has_nobody_to_call_back(alice):
    answer = set_follow_up(logged_in(alice), call_between("110", "111"), alice)
    assert (answer.status_code, answer.json()["error"]) == (
        400,
        "Bu çağrıda geri aranacak bir dış numara yok.",
    )


def test_a_note_too_long_is_refused_not_cut(alice, inbound):
    answer = set_follow_up(logged_in(alice), inbound, alice, note="x" * 301)
    assert answer.status_code == 400
    assert not FollowUp.objects.exists()


def test_an_unknown_call_is_404(alice):
    answer = logged_in(alice).post(
        create_url("a" * 32), {"due_at": "2030-01-01T10:00", "assignee": alice.pk}
    )
    assert answer.status_code == 404


def test_the_assignee_list_has_everyone_who_can_take_one_and_nobody_else(alice, sam):
    users = get_user_model().objects
    users.create_user("norole", password="x")
    users.create_superuser("root", password="x")
    # Seeing calls is not enough: an assignee must see the reminder and mark it done.
    half = users.create_user("half", password="x")
    half.user_permissions.add(Permission.objects.get(codename="view_callrecord"))
    whole = users.create_user("whole", password="x")
    whole.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_callrecord", "view_followup", "change_followup"]
        )
    )
    answer = logged_in(alice).get(reverse("calls:follow-up-assignees"))
    names = [person["name"] for person in answer.json()["assignees"]]
    assert names == ["alice", "root", "sam", "whole"]


def test_the_reminder_lists_only_ones_own_follow_ups_that_are_due_and_not_done(alice, sam, inbound):
    client = logged_in(alice)
    for_sam = set_follow_up(client, inbound, sam, note="Sam arasın").json()["follow_up"]["id"]
    later = set_follow_up(client, inbound, sam, note="Sonra").json()["follow_up"]["id"]
    for_alice = set_follow_up(client, inbound, alice).json()["follow_up"]["id"]
    due_url = reverse("calls:follow-ups-due")
    assert logged_in(sam).get(due_url).json()["follow_ups"] == []  # not due yet

    make_due(FollowUp.objects.get(pk=for_sam))
    make_due(FollowUp.objects.get(pk=for_alice))

    due = logged_in(sam).get(due_url).json()["follow_ups"]
    assert [(f["id"], f["note"], f["customer"]) for f in due] == [
        (for_sam, "Sam arasın", "Ayşe Yılmaz")
    ]
    assert later not in [f["id"] for f in due]
    logged_in(sam).post(done_url(FollowUp.objects.get(pk=for_sam)))
    assert logged_in(sam).get(due_url).json()["follow_ups"] == []


def test_the_assignee_and_a_supervisor_mark_it_done_another_agent_may_not(alice, sam, bob, inbound):
    set_follow_up(logged_in(sam), inbound, alice)
    follow_up = FollowUp.objects.get()

    refused = logged_in(bob).post(done_url(follow_up))
    assert (refused.status_code, refused.json()["error"]) == (
        403,
        "Yalnızca arayacak kişi ya da bir süpervizör tamamlandı olarak işaretleyebilir.",
    )
    follow_up.refresh_from_db()
    assert follow_up.done_at is None

    assert logged_in(alice).post(done_url(follow_up)).status_code == 200
    follow_up.refresh_from_db()
    assert (follow_up.done_by, follow_up.done_at is not None) == (alice, True)
    # Done twice is done once: the first marking stands.
    assert logged_in(sam).post(done_url(follow_up)).status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.done_by == alice

    set_follow_up(logged_in(alice), inbound, bob)
    other = FollowUp.objects.get(done_at__isnull=True)
    assert logged_in(sam).post(done_url(other)).status_code == 200  # a supervisor's


def test_the_callbacks_page_lists_open_follow_ups_and_marks_them_done(alice, sam, inbound):
    set_follow_up(logged_in(alice), inbound, sam, note="Teklif için ara")
    follow_up = FollowUp.objects.get()

    page = logged_in(alice).get(reverse("calls:callbacks")).content.decode()
    assert "Teklif için ara" in page and "0532 123 45 67" in page and "Ayşe Yılmaz" in page
    # Alice is not its assignee, nor a supervisor: no button for her.
    assert done_url(follow_up) not in page
    assert done_url(follow_up) in logged_in(sam).get(reverse("calls:callbacks")).content.decode()

    answer = logged_in(sam).post(done_url(follow_up), {"back": "1"})
    assert answer.status_code == 302 and answer.url == reverse("calls:callbacks")
    assert "Teklif için ara" not in logged_in(sam).get(reverse("calls:callbacks")).content.decode()


def test_a_note_is_text_on_the_callbacks_page_never_markup(alice, inbound):
    set_follow_up(logged_in(alice), inbound, alice, note='<img src=x onerror="alert(1)">')
    page = logged_in(alice).get(reverse("calls:callbacks")).content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "<img src=x" not in page


def test_an_unknown_follow_up_is_404_however_large_its_id(alice):
    client = logged_in(alice)
    for id_ in (1, 10**30):
        answer = client.post(f"/follow-ups/{id_}/done/")
        assert (answer.status_code, answer.json()["error"]) == (404, "Bu geri arama bilinmiyor.")


def test_in_the_admin_agents_only_read_follow_ups_and_supervisors_may_change_them(alice, sam):
    follow_up = FollowUp.objects.create(
        number="+905321234567", due_at=timezone.now() + timedelta(hours=1), assignee=sam,
        note="Teklif",
    )  # fmt: skip
    url = reverse("admin:calls_followup_change", args=[follow_up.pk])
    form = {
        "due_at_0": "2030-12-01", "due_at_1": "10:00:00", "assignee": sam.pk,
        "note": "Teklif gönderildi", "done_at_0": "", "done_at_1": "",
    }  # fmt: skip

    agent = logged_in(alice)
    assert "Teklif" in agent.get(url).content.decode()  # read-only, as on /callbacks/
    assert agent.post(url, form).status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.note == "Teklif"

    response = logged_in(sam).post(url, form)
    assert response.status_code == 302, re.findall(r"errorlist[^<]*<li>([^<]*)", response.text)
    follow_up.refresh_from_db()
    assert follow_up.note == "Teklif gönderildi"
