"""An unknown caller added as a customer from the screen-pop: the customer is created with the
number, and the poll that asks for (with a rematch) shows the call with the new name, without
waiting for the poll's periodic rematch. Real poll against the simulator over HTTP, real Redis."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from calls.live.poll import poll_active_calls
from calls.live.poll_requests import POLL_TASK
from calls.live.snapshot import read_snapshot
from calls.tasks import poll_active_calls_task
from customers.models import Customer
from tests.support.personas import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

URL = reverse("calls:add-caller")
CALLER = "905559998877"


def test_the_caller_added_from_the_pop_has_their_name_on_the_next_poll(
    pbx_settings, alice, live_redis, django_capture_on_commit_callbacks
):
    channel = pbx_settings.sim.add_call(CALLER, "110", callinfo="Çalıyor")
    poll_active_calls()
    poll_active_calls()  # past the first poll, which matches every caller anyway
    assert read_snapshot().calls[channel].customer is None

    with django_capture_on_commit_callbacks(execute=True):  # the announcement after the commit
        added = logged_in(alice).post(
            URL, {"number": CALLER, "name": "Yeni Müşteri", "company": "Yeni A.Ş.", "notes": "Pop"}
        )
    assert added.status_code == 200, added.content
    customer = Customer.objects.get()
    assert added.json()["customer"]["id"] == customer.pk
    assert list(customer.phones.values_list("number", flat=True)) == ["+905559998877"]

    # The poll asked for through the broker (Celery's queue in the tests' Redis), run as the
    # worker runs it.
    [requested] = queued_polls(live_redis)
    poll_active_calls_task.apply(kwargs=requested)
    assert read_snapshot().calls[channel].customer.name == "Yeni Müşteri"


def queued_polls(redis_client) -> list[dict]:
    """The keyword arguments of the poll tasks waiting in Celery's default queue."""
    polls = []
    for raw in redis_client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == POLL_TASK:
            _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            polls.append(kwargs)
    return polls


@pytest.mark.parametrize(
    "data",
    [
        {"number": CALLER, "name": ""},
        {"number": "110", "name": "Bir Dahili"},  # an extension is no customer's number
        {"number": "x" * 41, "name": "Uzun"},
    ],
    ids=["no name", "an extension", "too long"],
)
def test_a_bad_form_gets_a_clear_400_and_creates_nothing(alice, data):
    response = logged_in(alice).post(URL, data)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Customer.objects.exists()


def test_someone_who_may_not_add_customers_cannot_add_the_caller(db):
    viewer = get_user_model().objects.create_user("viewer", password="viewer-pass-1")
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_callrecord", "view_customer"])
    )
    response = logged_in(viewer).post(URL, {"number": CALLER, "name": "Yeni"})
    assert response.status_code == 403
    assert not Customer.objects.exists()
