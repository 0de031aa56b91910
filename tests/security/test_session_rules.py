"""The session watch's own copy of Django's rules (calls.live.session_watch): which sessions still
hold, and which users hold the permissions for live calls, must agree with what Django itself
answers (`get_user`, `user.has_perms`) for every kind of account, or a panel would outlive a
session or a role that Django has already ended."""

from __future__ import annotations

import pytest
from django.contrib.auth import HASH_SESSION_KEY, get_user, get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import Client

from calls.access import LIVE_CALLS
from calls.live.session_watch import SessionPass, Standing, standings

pytestmark = pytest.mark.django_db

OLD_SECRET = "an-old-secret-key-that-was-rotated-out-0123456789"
NEW_SECRET = "the-secret-key-that-replaced-it-0123456789abcdefgh"


def _user(username: str, **extra):
    return get_user_model().objects.create_user(username, password="x-12345", **extra)


def _personas(alice, sam) -> dict:
    direct = _user("direct")  # both permissions given to the user, in no group
    for perm in LIVE_CALLS:
        app_label, codename = perm.split(".")
        direct.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    half = _user("half")  # one of the two
    half.user_permissions.add(Permission.objects.get(codename="view_callrecord"))
    return {
        "no role": _user("nobody"),
        "agent": alice,
        "supervisor": sam,
        "superuser": get_user_model().objects.create_superuser("root", password="r-12345"),
        "direct permissions": direct,
        "one permission of two": half,
        "inactive superuser": _user("gone", is_superuser=True, is_active=False),
    }


def _pass_of(user) -> SessionPass:
    browser = Client()
    browser.force_login(user)
    key = browser.session.session_key
    return SessionPass(key, user.pk, SessionStore(key).get(HASH_SESSION_KEY, ""))


def _djangos_standing(entry: SessionPass) -> Standing:
    request = HttpRequest()
    request.session = SessionStore(entry.session_key)
    user = get_user(request)  # may cycle or flush the session: asked after the watch
    if not user.is_authenticated:
        return Standing.SESSION_ENDED
    return Standing.OK if user.has_perms(LIVE_CALLS) else Standing.FORBIDDEN


def _compare(passes: dict[str, SessionPass]) -> None:
    watched = dict(zip(passes, standings(list(passes.values())), strict=True))
    django = {name: _djangos_standing(entry) for name, entry in passes.items()}
    assert watched == django


def test_the_watch_agrees_with_django_for_every_kind_of_account(alice, sam):
    personas = _personas(alice, sam)
    _compare({name: _pass_of(user) for name, user in personas.items()})


def test_the_watch_agrees_with_django_on_hashes_made_with_a_fallback_secret(alice, sam, settings):
    personas = _personas(alice, sam)
    settings.SECRET_KEY = OLD_SECRET
    made_with_old = {name: _pass_of(user) for name, user in personas.items()}
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_SECRET, [OLD_SECRET]
    _compare({**made_with_old, "current secret": _pass_of(alice)})

    # The old secret leaves the fallbacks: the sessions whose hash only it made end, even for a
    # watch that checked them while it was still a fallback.
    settings.SECRET_KEY = OLD_SECRET
    still_old = {name: _pass_of(user) for name, user in personas.items()}
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_SECRET, [OLD_SECRET]
    standings(list(still_old.values()))
    settings.SECRET_KEY_FALLBACKS = []
    _compare(still_old)
