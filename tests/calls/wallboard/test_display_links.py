"""Display links (calls.wallboard.display_links): a token that opens a screen while its link is
active, stored only as its hash; "last used" written at most once a minute; revocation; the
websocket's check of which links are still active; and how a screen shows a number."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import DisplayLink
from calls.wallboard.display_links import (
    DISPLAY_PATH,
    active_link_ids,
    create_display_link,
    display_path,
    link_for_token,
    mask_number,
    revoke,
)

NOW = timezone.now()


@pytest.mark.django_db
def test_a_new_link_is_active_and_keeps_only_the_hash_of_its_token(sam):
    link, token = create_display_link("TV by the door", sam)
    link.refresh_from_db()
    assert link.name == "TV by the door" and link.created_by == sam and link.active
    assert len(token) == 43
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(DisplayLink.objects.values().get())


@pytest.mark.django_db
def test_two_links_never_share_a_token():
    tokens = {create_display_link(f"TV {n}", None)[1] for n in range(20)}
    assert len(tokens) == 20


def test_the_path_of_a_screen_is_built_from_one_constant():
    assert DISPLAY_PATH == "/display/{token}/"
    assert display_path("abc") == "/display/abc/"


@pytest.mark.django_db
def test_its_token_finds_the_link_and_marks_it_used():
    link, token = create_display_link("TV", None)
    found = link_for_token(token, NOW)
    assert found == link and found.last_used_at == NOW
    link.refresh_from_db()
    assert link.last_used_at == NOW


@pytest.mark.django_db
def test_reconnects_within_a_minute_write_nothing():
    link, token = create_display_link("TV", None)
    link_for_token(token, NOW)
    with CaptureQueriesContext(connection) as queries:
        found = link_for_token(token, NOW + timedelta(seconds=59))
    assert found == link and found.last_used_at == NOW
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    later = NOW + timedelta(minutes=1)
    assert link_for_token(token, later).last_used_at == later
    link.refresh_from_db()
    assert link.last_used_at == later


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "",
        "x" * 42,  # one short
        "x" * 44,  # one long
        "x" * 10_000,
        "x" * 42 + "/",
        "x" * 42 + "é",
        None,
        43,
    ],
    ids=["empty", "short", "long", "huge", "slash", "non-ascii", "none", "number"],
)
def test_a_malformed_token_opens_nothing_and_asks_the_database_nothing(token):
    create_display_link("TV", None)
    with CaptureQueriesContext(connection) as queries:
        assert link_for_token(token, NOW) is None
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_well_formed_unknown_token_opens_nothing():
    _, token = create_display_link("TV", None)
    other = ("A" if token[0] != "A" else "B") + token[1:]
    assert link_for_token(other, NOW) is None


@pytest.mark.django_db
def test_a_revoked_link_opens_nothing_and_is_not_marked_used(sam):
    link, token = create_display_link("TV", sam)
    assert revoke(link, sam, NOW) is True
    assert link_for_token(token, NOW + timedelta(minutes=5)) is None
    link.refresh_from_db()
    assert link.revoked_at == NOW and link.revoked_by == sam and not link.active
    assert link.last_used_at is None


@pytest.mark.django_db
def test_revoking_twice_keeps_the_first_revocation(sam, alice):
    link, _ = create_display_link("TV", sam)
    revoke(link, sam, NOW)
    assert revoke(DisplayLink.objects.get(), alice, NOW + timedelta(hours=1)) is False
    link.refresh_from_db()
    assert (link.revoked_at, link.revoked_by) == (NOW, sam)


@pytest.mark.django_db
def test_the_screens_check_keeps_only_active_links_in_one_query(sam):
    kept, _ = create_display_link("kept", sam)
    revoked, _ = create_display_link("revoked", sam)
    deleted, _ = create_display_link("deleted", sam)
    revoke(revoked, sam, NOW)
    deleted_id = deleted.pk
    deleted.delete()
    with CaptureQueriesContext(connection) as queries:
        active = active_link_ids([kept.pk, revoked.pk, deleted_id, 999_999])
    assert active == {kept.pk}
    assert len(queries) == 1


@pytest.mark.django_db
def test_the_check_of_no_links_asks_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert active_link_ids([]) == set()
    assert len(queries) == 0


@pytest.mark.parametrize(
    ("shown", "masked"),
    [
        ("0532 123 45 67", "•••• ••• •• 67"),
        ("+90 532 123 45 67", "+•• ••• ••• •• 67"),
        ("+49 30 1234567", "+•• •• •••••67"),
        ("05321234567", "•••••••••67"),
        ("(0212) 555-12-34", "(••••) •••-••-34"),
        # Extensions and queues are internal: shown as they are.
        ("110", "110"),
        ("630", "630"),
        ("12345", "12345"),
        # Nothing of a number to hide.
        ("", ""),
        ("anonymous", "anonymous"),
    ],
)
def test_a_screen_shows_only_the_last_two_digits_of_a_number(shown, masked):
    assert mask_number(shown) == masked
