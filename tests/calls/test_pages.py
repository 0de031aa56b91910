"""The panel page: login required, Turkish by default, English on request."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client):
    """Alice the agent, logged in."""
    user = get_user_model().objects.create_user("alice", password="alice-pass-123")
    client.force_login(user)
    return user


def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get(reverse("calls:panel"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_shows_the_login_page_in_turkish_even_to_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Giriş yap" in response.content.decode()
    assert 'lang="tr"' in response.content.decode()


def test_it_shows_the_panel_to_a_logged_in_agent_in_turkish(client, alice):
    response = client.get(reverse("calls:panel"))
    assert response.status_code == 200
    assert "Aktif çağrılar" in response.content.decode()


def test_it_switches_to_english(client, alice):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    page = response.content.decode()
    assert "Active calls" in page
    assert 'lang="en"' in page
