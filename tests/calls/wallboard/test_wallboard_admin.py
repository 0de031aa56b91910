"""The wallboard's admin pages: each queue's levels, and display links, whose screen address is
shown once, when the link is added, and whose token's hash is never shown. Administrators only.
The pages are Turkish, as the panel is by default: the texts checked are the catalogue's."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from calls.models import DisplayLink, WallboardQueue
from calls.wallboard.display_links import create_display_link, link_for_token

pytestmark = pytest.mark.django_db

LINKS = "/admin/calls/displaylink/"
QUEUES = "/admin/calls/wallboardqueue/"
SCREEN_URL = re.compile(r"http://testserver/display/([A-Za-z0-9_-]{43})/")


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser("root", password="root-pass-123")


@pytest.fixture
def admin_browser(root) -> Client:
    browser = Client()
    browser.force_login(root)
    return browser


def _page(response) -> str:
    return response.content.decode()


# --- display links ------------------------------------------------------------------------------


def test_adding_a_link_shows_its_screen_url_once(admin_browser, root):
    response = admin_browser.post(f"{LINKS}add/", {"name": "TV by the door"}, follow=True)
    assert response.status_code == 200
    (token,) = SCREEN_URL.findall(_page(response))
    link = DisplayLink.objects.get()
    assert link.name == "TV by the door" and link.created_by == root and link.active
    assert link_for_token(token, link.created_at) == link
    # Never again: not on the list, not on its page.
    for path in (LINKS, f"{LINKS}{link.pk}/change/", f"{LINKS}?q=TV"):
        page = _page(admin_browser.get(path))
        assert token not in page and not SCREEN_URL.search(page), path


def test_save_and_continue_shows_the_url_on_the_links_page(admin_browser):
    response = admin_browser.post(
        f"{LINKS}add/", {"name": "Kitchen", "_continue": "1"}, follow=True
    )
    assert len(SCREEN_URL.findall(_page(response))) == 1
    assert response.redirect_chain[-1][0] == f"{LINKS}{DisplayLink.objects.get().pk}/change/"


def test_the_token_hash_is_shown_nowhere(admin_browser):
    link, _ = create_display_link("TV", None)
    for path in (LINKS, f"{LINKS}add/", f"{LINKS}{link.pk}/change/", f"{LINKS}{link.pk}/history/"):
        page = _page(admin_browser.get(path))
        assert link.token_hash not in page and "token_hash" not in page, path


def test_the_list_says_when_each_link_was_used_and_whether_revoked(admin_browser):
    create_display_link("TV by the door", None)
    page = _page(admin_browser.get(LINKS))
    for column in ("column-name", "column-created_at", "column-last_used_at", "column-revoked_at"):
        assert column in page


def test_renaming_a_link_keeps_its_token(admin_browser):
    link, token = create_display_link("TV", None)
    response = admin_browser.post(f"{LINKS}{link.pk}/change/", {"name": "TV upstairs"})
    assert response.status_code == 302
    assert link_for_token(token, link.created_at).name == "TV upstairs"
    assert not SCREEN_URL.search(_page(admin_browser.get(LINKS)))


def test_the_revoke_action_closes_the_selected_links(admin_browser, root):
    first, first_token = create_display_link("first", None)
    second, second_token = create_display_link("second", None)
    kept, kept_token = create_display_link("kept", None)
    response = admin_browser.post(
        LINKS,
        {"action": "revoke_display_links", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert "2 ekran bağlantısı iptal edildi" in _page(response)
    for link, token in ((first, first_token), (second, second_token)):
        link.refresh_from_db()
        assert link.revoked_by == root and link.revoked_at is not None
        assert link_for_token(token, link.revoked_at) is None
    assert link_for_token(kept_token, kept.created_at) == kept


def test_revoking_a_revoked_link_again_changes_nothing(admin_browser, sam):
    link, _ = create_display_link("TV", None)
    link.revoked_by, link.revoked_at = sam, link.created_at
    link.save()
    response = admin_browser.post(
        LINKS, {"action": "revoke_display_links", "_selected_action": [link.pk]}, follow=True
    )
    assert "0 ekran bağlantısı iptal edildi" in _page(response)
    link.refresh_from_db()
    assert link.revoked_by == sam


# --- queues' levels -----------------------------------------------------------------------------


def _queue_form(**values) -> dict[str, str]:
    form = {"queue": "630", "name": "Satış", "service_level_seconds": "20"}
    form.update({key: str(value) for key, value in values.items()})
    return form


def test_a_new_queue_takes_the_service_level_setting(admin_browser, settings):
    settings.TELSAM_SERVICE_LEVEL_SECONDS = 30
    page = _page(admin_browser.get(f"{QUEUES}add/"))
    assert re.search(r'name="service_level_seconds"[^>]*value="30"', page)
    assert WallboardQueue.objects.create(queue="631").service_level_seconds == 30


def test_levels_are_saved_from_the_form(admin_browser):
    form = _queue_form(
        waiting_amber=3,
        waiting_red=6,
        longest_wait_amber=60,
        longest_wait_red=120,
        service_level_amber=80,
        service_level_red=60,
    )
    assert admin_browser.post(f"{QUEUES}add/", form).status_code == 302
    queue = WallboardQueue.objects.get()
    assert (queue.waiting_amber, queue.waiting_red, queue.service_level_red) == (3, 6, 60)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"waiting_amber": 5, "waiting_red": 5}, "waiting_red"),
        ({"waiting_amber": 5, "waiting_red": 4}, "waiting_red"),
        ({"longest_wait_amber": 60, "longest_wait_red": 30}, "longest_wait_red"),
        ({"service_level_amber": 60, "service_level_red": 80}, "service_level_red"),
        ({"service_level_amber": 80, "service_level_red": 80}, "service_level_red"),
        ({"service_level_amber": 101}, "service_level_amber"),
        ({"waiting_amber": 0}, "waiting_amber"),
        ({"service_level_seconds": 0}, "service_level_seconds"),
    ],
)
def test_levels_in_the_wrong_order_or_out_of_range_are_refused(admin_browser, values, field):
    response = admin_browser.post(f"{QUEUES}add/", _queue_form(**values))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not WallboardQueue.objects.exists()


def test_levels_are_edited_on_the_list_and_checked_there_too(admin_browser):
    queue = WallboardQueue.objects.create(queue="630", waiting_amber=3)
    rows = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(queue.pk),
        "form-0-name": "Destek",
        "form-0-service_level_seconds": "20",
        "form-0-waiting_amber": "3",
        "form-0-waiting_red": "2",
        "_save": "1",
    }
    refused = admin_browser.post(QUEUES, rows)
    assert refused.status_code == 200 and "uyarı eşiğinin üstünde" in _page(refused)
    assert admin_browser.post(QUEUES, {**rows, "form-0-waiting_red": "8"}).status_code == 302
    queue.refresh_from_db()
    assert (queue.name, queue.waiting_red) == ("Destek", 8)


def test_the_form_explains_each_level(admin_browser):
    page = _page(admin_browser.get(f"{QUEUES}add/"))
    assert "beklediğinde kutucuk" in page
    assert "bunun altına düşünce kırmızı" in page


# --- who reaches them ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "sam"])
def test_no_role_reaches_the_wallboard_admin(request, persona):
    browser = Client()
    browser.force_login(request.getfixturevalue(persona))
    for path in (LINKS, f"{LINKS}add/", QUEUES, f"{QUEUES}add/"):
        assert browser.get(path).status_code == 403, path


def test_supervisors_see_the_wallboard_and_agents_do_not(alice, sam):
    assert sam.has_perm("calls.view_wallboard")
    assert not alice.has_perm("calls.view_wallboard")
    assert not sam.has_perm("calls.view_displaylink")
    assert not sam.has_perm("calls.view_wallboardqueue")
