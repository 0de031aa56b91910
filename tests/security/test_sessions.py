"""Sessions last a working day (SESSION_COOKIE_AGE, 12 h by default) from the login; an expired one
is a logged-out one. (The websocket side: tests/calls/live/test_live_pipeline.py::
test_a_panel_closes_when_its_session_expires, and every other way a session ends:
tests/security/test_panel_sessions.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def log_in(username: str = "alice") -> Client:
    browser = Client()
    response = browser.post(
        reverse("login"), {"username": username, "password": f"{username}-pass-123"}
    )
    assert response.status_code == 302
    return browser


def test_a_login_lasts_twelve_hours_by_default(alice):
    browser = log_in()
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert browser.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 3600
    session = Session.objects.get()
    expected = timezone.now() + timedelta(hours=12)
    assert abs(session.expire_date - expected) < timedelta(minutes=1)


@pytest.mark.parametrize("path", ["/", "/history/", "/callbacks/", "/profile/", "/admin/"])
def test_an_expired_session_is_sent_to_login(alice, path):
    browser = log_in()
    assert browser.get(path).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))  # the day is over

    response = browser.get(path)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login" if path == "/admin/" else "login"))


def test_an_expired_session_cannot_hang_up(sam):
    browser = log_in("sam")
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = browser.post(reverse("calls:hangup"), {"channel": "SIP/110-1"})
    assert response.status_code == 403


def test_sessions_can_end_with_the_browser(alice, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    cookie = log_in().cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
