"""The wallboard's pages: `/wallboard/` for those who may see it, its TV mode and themes, and a
display link's screen at `/display/<token>/`, which needs no login and leaks its token nowhere."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.wallboard.display_links import create_display_link, display_path, revoke
from tests.support.personas import logged_in

pytestmark = pytest.mark.django_db


def wallboard_config(response) -> dict:
    page = response.content.decode()
    start = page.index('<script id="wallboard-config" type="application/json">') + 54
    return json.loads(page[start : page.index("</script>", start)])


def test_it_shows_the_wallboard_to_a_supervisor_in_the_site_frame(sam):
    response = logged_in(sam).get("/wallboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Duvar panosu" in page
    assert 'class="topbar"' in page
    assert 'href="/wallboard/?tv=1"' in page  # the TV mode link
    config = wallboard_config(response)
    assert config["wsPath"] == "/ws/wallboard/"
    assert config["tv"] is False
    assert config["language"] == "tr"


def test_it_refuses_the_wallboard_to_an_agent(alice):
    assert logged_in(alice).get("/wallboard/").status_code == 403


def test_it_sends_an_anonymous_visitor_to_the_login(client):
    response = client.get("/wallboard/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_tv_mode_has_no_navigation_and_the_theme_asked_for(sam):
    response = logged_in(sam).get("/wallboard/?tv=1&theme=dark")
    page = response.content.decode()
    assert 'class="topbar"' not in page and "<nav" not in page
    assert '<html lang="tr" class="tv" data-theme="dark">' in page
    assert wallboard_config(response) | {"tv": True, "theme": "dark"} == wallboard_config(response)


def test_tv_mode_leaves_an_unknown_theme_to_the_browser(sam):
    response = logged_in(sam).get("/wallboard/?tv=1&theme=<script>")
    assert wallboard_config(response)["theme"] == ""
    assert "data-theme" not in response.content.decode()


def test_the_menu_links_the_wallboard_only_for_those_who_may_see_it(alice, sam):
    assert 'href="/wallboard/"' in logged_in(sam).get("/").content.decode()
    assert 'href="/wallboard/"' not in logged_in(alice).get("/").content.decode()


def test_a_supervisors_panel_is_told_to_listen_for_queue_alerts(alice, sam):
    from tests.calls.panel.test_pages import panel_config

    assert panel_config(logged_in(sam).get("/"))["canSeeWallboard"] is True
    assert panel_config(logged_in(alice).get("/"))["canSeeWallboard"] is False


def test_an_active_display_link_opens_the_tv_board_without_a_login(client, sam):
    _link, token = create_display_link("TV by the door", sam)
    response = client.get(display_path(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="tv"' in page and "<nav" not in page
    config = wallboard_config(response)
    assert config["wsPath"] == f"/ws/display/{token}/"
    assert config["tv"] is True
    assert config["loginUrl"] == ""


def test_a_display_screen_sets_no_cookie_and_has_no_form(client, sam):
    _link, token = create_display_link("TV", sam)
    response = client.get(display_path(token))
    assert response.cookies == {}
    assert "<form" not in response.content.decode()
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_a_display_screen_sends_no_referrer(client, sam):
    _link, token = create_display_link("TV", sam)
    response = client.get(display_path(token))
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.content.decode()
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    "token", ["A" * 43, "short", "A" * 44, "%00" * 20], ids=["unknown", "short", "long", "junk"]
)
def test_an_unknown_token_gets_a_plain_404(client, token):
    response = client.get(f"/display/{token}/")
    assert response.status_code == 404
    assert response.content == b"Not Found"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_revoked_link_gets_the_same_plain_404(client, sam):
    link, token = create_display_link("TV", sam)
    revoke(link, sam, timezone.now())
    response = client.get(display_path(token))
    assert response.status_code == 404
    assert response.content == b"Not Found"


def test_the_token_stays_out_of_the_applications_log(client, sam, caplog):
    link, token = create_display_link("TV", sam)
    with caplog.at_level(logging.DEBUG):
        client.get(display_path(token))
        revoke(link, sam, timezone.now())
        client.get(display_path(token))
    assert token not in caplog.text
