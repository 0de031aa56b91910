"""Guessing passwords: after LOGIN_FAILURE_LIMIT wrong ones a username is locked out from that
address (django-axes, kept in our database), on the panel's login form and the admin's alike, until
the cool-off passes or an administrator unlocks it. Logged-in sessions and the websocket go on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from axes.models import AccessAttempt
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from telsam_panel.asgi import application

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
RIGHT = "alice-pass-123"  # tests/support/personas.py's


def attempt(url: str, password: str, *, username: str = "alice", address: str = "10.0.0.7"):
    """One login from a fresh browser at `address`; the response and that browser."""
    browser = Client(REMOTE_ADDR=address)
    response = browser.post(url, {"username": username, "password": password, "next": "/"})
    return response, browser


def logged_in(browser: Client) -> bool:
    return browser.get(reverse("calls:panel")).status_code == 200


def fail_until_locked(url: str = LOGIN, **who) -> None:
    for number in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response, _ = attempt(url, f"guess-{number}", **who)
        expected = 429 if number == settings.AXES_FAILURE_LIMIT else 200
        assert response.status_code == expected, f"attempt {number}"


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN], ids=["panel", "admin"])
def test_repeated_wrong_passwords_lock_out_even_the_right_one(alice, url):
    fail_until_locked(url)

    response, browser = attempt(url, RIGHT)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Çok fazla başarısız giriş" in page  # Turkish, as every page
    assert f"{settings.AXES_FAILURE_LIMIT} yanlış paroladan sonra" in page
    assert "15 dakika" in page
    assert not logged_in(browser)


def test_a_lockout_on_one_form_holds_on_the_other(alice):
    fail_until_locked(LOGIN)
    response, _ = attempt(ADMIN_LOGIN, RIGHT)
    assert response.status_code == 429


def test_fewer_failures_than_the_limit_and_a_success_start_the_count_again(alice):
    for _ in range(2):
        for number in range(settings.AXES_FAILURE_LIMIT - 1):
            assert attempt(LOGIN, f"typo-{number}")[0].status_code == 200
        response, browser = attempt(LOGIN, RIGHT)
        assert response.status_code == 302
        assert logged_in(browser)


def test_the_lock_holds_one_username_at_one_address_only(alice, sam):
    fail_until_locked()
    # A colleague behind the same NAT address logs in; so does Alice at another desk.
    response, browser = attempt(LOGIN, "sam-pass-123", username="sam")
    assert response.status_code == 302 and logged_in(browser)
    response, browser = attempt(LOGIN, RIGHT, address="10.0.0.8")
    assert response.status_code == 302 and logged_in(browser)


def test_the_lock_ends_after_the_cool_off(alice):
    fail_until_locked()
    assert attempt(LOGIN, RIGHT)[0].status_code == 429
    # Let the cool-off pass: the failures are stored with their time.
    cool_off = settings.AXES_COOLOFF_TIME
    for failure in AccessAttempt.objects.all():
        failure.attempt_time -= cool_off + timedelta(seconds=1)
        failure.save()

    response, browser = attempt(LOGIN, RIGHT)

    assert response.status_code == 302
    assert logged_in(browser)


def test_an_administrator_unlocks_a_username_at_once(alice):
    fail_until_locked()
    call_command("axes_reset_username", "alice")
    response, browser = attempt(LOGIN, RIGHT)
    assert response.status_code == 302
    assert logged_in(browser)


def test_the_failures_are_kept_for_the_admin_without_the_passwords(alice):
    fail_until_locked()
    [failures] = AccessAttempt.objects.all()
    assert (failures.username, failures.ip_address) == ("alice", "10.0.0.7")
    assert failures.failures_since_start == settings.AXES_FAILURE_LIMIT
    assert "guess-1" not in failures.post_data
    assert "csrfmiddlewaretoken" not in failures.post_data or "****" in failures.post_data


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_lockout_leaves_open_sessions_and_their_websocket_alone(alice, live_redis):
    response, desk = await sync_to_async(attempt)(LOGIN, RIGHT)
    assert response.status_code == 302
    # Then somebody at the same address guesses Alice's password until she is locked out.
    await sync_to_async(fail_until_locked)()
    assert (await sync_to_async(attempt)(LOGIN, RIGHT))[0].status_code == 429

    assert await sync_to_async(logged_in)(desk)
    session = desk.cookies[settings.SESSION_COOKIE_NAME].value
    panel = WebsocketCommunicator(
        application,
        "/ws/calls/",
        headers=[
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()),
            (b"host", b"127.0.0.1"),
            (b"origin", b"http://127.0.0.1"),
        ],
    )
    connected, _ = await panel.connect()
    assert connected
    assert (await panel.receive_json_from(timeout=3))["type"] == "snapshot"
    await panel.disconnect()
