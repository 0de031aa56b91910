"""Who may reach what. Every URL of the project is walked from the URLconf itself, so a page added
later is covered without touching this file:

- every URL outside the admin has a row in ACCESS: what an anonymous visitor, an account with no
  role, an agent, a supervisor and an administrator get there (a new URL without a row fails);
- an anonymous visitor gets a login redirect or a refusal everywhere but the few public URLs named
  in PUBLIC;
- every URL refuses a POST without a CSRF token, even for a superuser;
- in the admin, an agent and a supervisor reach exactly what their group's permissions (from the
  roles migrations) allow, and get 403 everywhere else.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from calls.models import (
    DisplayLink,
    FollowUp,
    HangupAttempt,
    WallboardQueue,
    WrapUpCode,
    WrapUpQueue,
)
from customers.models import CustomerImport
from customers.services import customer_create

pytestmark = pytest.mark.django_db

ROLES = importlib.import_module("calls.migrations.0002_roles").ROLES
IMPORT_GRANTS = importlib.import_module("customers.migrations.0003_supervisors_see_imports").GRANTS
CALL_WORK_GRANTS = importlib.import_module("calls.migrations.0009_call_work_roles").GRANTS
FOLLOW_UP_GRANTS = importlib.import_module("calls.migrations.0011_follow_up_roles").GRANTS
WALLBOARD_GRANTS = importlib.import_module("calls.migrations.0013_wallboard_roles").GRANTS

# Reachable without logging in, and why that is fine.
PUBLIC = {
    "accounts/login/": "the login form",
    "admin/login/": "the admin's login form",
    "accounts/logout/": "logging out (POST) a visitor who is not logged in does nothing",
    "admin/logout/": "the same, for the admin",
    "i18n/setlang/": "the language switch on the login page",
    "jsi18n/": "the panel's translated strings, no data",
    "favicon.ico": "a redirect to the icon",
    "healthz": "the health check for load balancers: ok or not, no data, no secrets",
    "healthz/data": "the freshness check for monitoring: status words only, details for staff",
    "display/<str:token>/": "a display link's wallboard screen: the token is the key, else 404",
}
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")


@dataclass(frozen=True)
class Url:
    route: str  # the pattern as written, e.g. admin/customers/customer/<path:object_id>/change/
    name: str | None

    def path(self, **values: str) -> str:
        """A concrete path: each parameter filled from `values` (by name)."""
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], self.route)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], path)
        return "/" + path.replace("^", "").replace("$", "")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Url]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from _walk(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Url(route, name)


URLS = list(_walk(get_resolver()))
ANY_VALUES = {
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "app_label": "customers",
    "url": "no/such/page/",
    "key": "0" * 32,
    "token": "A" * 43,  # shaped like a display link's token, and no link's
}


def test_the_walk_finds_every_kind_of_url():
    routes = {url.route for url in URLS}
    assert {"", "calls/hangup/", "history/", "stats/", "admin/customers/customer/import/"} <= routes
    assert "admin/customers/customer/<path:object_id>/change/" in routes
    assert set(PUBLIC) <= routes, "a public URL is gone: update PUBLIC"
    for url in URLS:  # each filled path resolves back to its own pattern
        assert resolve(url.path(**ANY_VALUES)).route == url.route.replace("^", "")


@pytest.mark.parametrize("url", [u for u in URLS if u.route not in PUBLIC], ids=lambda u: u.route)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_visitor_is_sent_to_login_or_refused(client, url, method):
    response = getattr(client, method)(url.path(**ANY_VALUES))
    if response.status_code == 302:
        assert response.url.startswith(LOGIN_PAGES), f"{url.route} redirects to {response.url}"
    else:
        assert response.status_code in (401, 403, 405), f"{url.route}: {response.status_code}"


@pytest.mark.parametrize("url", URLS, ids=lambda u: u.route)
def test_every_url_refuses_a_post_without_csrf_token(db, url, caplog):
    superuser = get_user_model().objects.create_superuser("root", password="root-pass-123")
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post(url.path(**ANY_VALUES), {"channel": "SIP/110-1", "number": "1"})
    assert response.status_code == 403
    assert [r.name for r in caplog.records] == ["django.security.csrf"]


# --- every page and endpoint, by role -----------------------------------------------------------

PERSONAS = ("anonymous", "no role", "agent", "supervisor", "admin")
LOGIN = "login"  # a redirect to the login page
REACHED = "reached"  # any answer but a refusal or a login redirect (the health check: 200 or 503)


@dataclass(frozen=True)
class Try:
    """One request to a URL and what each persona gets, in PERSONAS order."""

    expected: tuple[int | str, ...]
    method: str = "get"
    query: str = ""
    data: tuple[tuple[str, str], ...] = ()


def everyone(answer: int | str) -> tuple[int | str, ...]:
    return (answer,) * len(PERSONAS)


# Pages that show calls and the customers behind them: agents and up. Statistics: supervisors up.
CALLS_AND_CUSTOMERS = (LOGIN, 403, 200, 200, 200)
ACCESS: dict[str, list[Try]] = {
    "accounts/login/": [Try(everyone(200))],
    "accounts/logout/": [Try(everyone(LOGIN), method="post")],
    "accounts/password_change/": [Try((LOGIN, 200, 200, 200, 200))],  # one's own password
    "accounts/password_change/done/": [Try((LOGIN, 200, 200, 200, 200))],
    "i18n/setlang/": [Try(everyone(302), method="post", data=(("language", "en"),))],
    "jsi18n/": [Try(everyone(200))],
    "favicon.ico": [Try(everyone(301))],
    "healthz": [Try(everyone(REACHED))],
    "healthz/data": [Try(everyone(REACHED))],  # who reads details: tests/deployment/test_health.py
    "": [Try(CALLS_AND_CUSTOMERS)],
    "profile/": [Try(CALLS_AND_CUSTOMERS)],
    # The screen-pop's card: name, e-mail, notes, recent calls.
    "calls/caller/": [Try(CALLS_AND_CUSTOMERS, query="number=905321234567")],
    # Called by scripts: 403 JSON rather than a login page. 404: allowed, but the channel is not
    # live. Agents are refused (and audited).
    "calls/hangup/": [Try((403, 403, 403, 404, 404), method="post", data=(("channel", "SIP/1"),))],
    "history/": [
        Try(CALLS_AND_CUSTOMERS),
        Try(CALLS_AND_CUSTOMERS, query="export=csv"),
        Try(CALLS_AND_CUSTOMERS, query="export=xlsx"),
    ],
    "callbacks/": [
        Try(CALLS_AND_CUSTOMERS),
        Try(CALLS_AND_CUSTOMERS, query="export=csv"),
        Try(CALLS_AND_CUSTOMERS, query="export=xlsx"),
    ],
    # An unknown caller added as a customer from the screen-pop: needs customers.add_customer.
    "calls/caller/customer/": [
        Try((403, 403, 405, 405, 405)),
        Try(
            (403, 403, 200, 200, 200),
            method="post",
            data=(("number", "905559998877"), ("name", "Yeni Müşteri")),
        ),
    ],
    # A call's note and wrap-up code, read and written by the page's scripts: 403 JSON for the
    # refused; 404: allowed, but no such call (what each role may change: tests/calls/work/).
    "calls/<call_key:key>/work/": [
        Try((403, 403, 404, 404, 404)),
        Try((403, 403, 404, 404, 404), method="post", data=(("note", "x"),)),
    ],
    # Follow-ups (docs/call-work.md), called by scripts: 403 JSON for the refused. 404: allowed,
    # but no such call or follow-up (who may mark whose done: tests/calls/work/test_follow_ups.py).
    "calls/<call_key:key>/follow-up/": [
        Try((403, 403, 405, 405, 405)),
        Try((403, 403, 404, 404, 404), method="post", data=(("due_at", "2030-01-01T10:00"),)),
    ],
    "follow-ups/due/": [Try((403, 403, 200, 200, 200))],
    "follow-ups/assignees/": [Try((403, 403, 200, 200, 200))],
    "follow-ups/<int:id>/done/": [
        Try((403, 403, 405, 405, 405)),
        Try((403, 403, 404, 404, 404), method="post"),
    ],
    "callbacks/done/": [
        Try((LOGIN, 403, 302, 302, 302), method="post", data=(("number", "+905321234567"),))
    ],
    "stats/": [Try((LOGIN, 403, 403, 200, 200))],
    # The supervisors' wallboard (calls.view_wallboard), in the site's frame and as a TV.
    "wallboard/": [
        Try((LOGIN, 403, 403, 200, 200)),
        Try((LOGIN, 403, 403, 200, 200), query="tv=1&theme=dark"),
    ],
    # No login: an active link's token opens it (tests/calls/panel/test_wallboard_pages.py);
    # any other token, whoever asks, a plain 404.
    "display/<str:token>/": [Try(everyone(404))],
}
# The admin's own URLs: its role tests below (what each group's permissions grant).
ADMIN_PREFIX = "admin/"


def test_every_url_outside_the_admin_has_a_row_in_the_access_table():
    routes = {url.route for url in URLS if not url.route.startswith(ADMIN_PREFIX)}
    assert routes - set(ACCESS) == set(), "new URLs: add their rows to ACCESS"
    assert set(ACCESS) - routes == set(), "URLs gone: remove their rows from ACCESS"


@pytest.fixture
def personas(alice, sam) -> dict[str, Client]:
    """A logged-in browser for each persona (the anonymous one logs nobody in)."""
    users = {
        "no role": get_user_model().objects.create_user("norole", password="norole-pass-123"),
        "agent": alice,
        "supervisor": sam,
        "admin": get_user_model().objects.create_superuser("root", password="root-pass-123"),
    }
    browsers = {"anonymous": Client()}
    for persona, user in users.items():
        browsers[persona] = Client()
        browsers[persona].force_login(user)
    return browsers


def _answer(response) -> int | str:
    if response.status_code == 302 and response.url.startswith(LOGIN_PAGES):
        return LOGIN
    return response.status_code


@pytest.mark.usefixtures("live_redis")  # hang-up reads the live snapshot
@pytest.mark.parametrize("route", sorted(ACCESS), ids=lambda r: r or "panel")
def test_each_persona_gets_what_the_access_table_says(personas, route):
    for attempt in ACCESS[route]:
        path = Url(route, None).path(**ANY_VALUES) + (f"?{attempt.query}" if attempt.query else "")
        answers = []
        for persona in PERSONAS:
            response = getattr(personas[persona], attempt.method)(path, dict(attempt.data))
            answer = _answer(response)
            if attempt.expected[PERSONAS.index(persona)] == REACHED:
                answer = REACHED if answer not in (LOGIN, 401, 403) else answer
            answers.append(answer)
        assert tuple(answers) == attempt.expected, f"{attempt.method.upper()} {path}"


# --- the admin, by role -------------------------------------------------------------------------


def test_the_groups_have_exactly_what_the_roles_migrations_grant():
    for name, grants in ROLES.items():
        expected = (
            set(grants)
            | set(IMPORT_GRANTS.get(name, []))
            | set(CALL_WORK_GRANTS[name])
            | set(FOLLOW_UP_GRANTS[name])
            | set(WALLBOARD_GRANTS.get(name, []))
        )
        granted = set(
            Group.objects.get(name=name).permissions.values_list(
                "content_type__app_label", "codename"
            )
        )
        assert granted == expected, name


@pytest.fixture
def one_of_each(alice):
    """An object of every model in the admin, so change and delete pages really render."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    customer_create(name="Ayşe", phones=["0532 123 45 67"])
    HangupAttempt.objects.create(user=alice, username="alice", channel="SIP/1", result="ok")
    WrapUpCode.objects.create(name_tr="Çözüldü", name_en="Resolved")
    WrapUpQueue.objects.create(queue="630")
    FollowUp.objects.create(number="+905321234567", due_at=timezone.now(), assignee=alice)
    WallboardQueue.objects.create(queue="630", waiting_amber=3)
    DisplayLink.objects.create(name="TV", token_hash="0" * 64)
    CustomerImport.objects.create(
        username="alice", source="admin", file_name="a.csv", new=1, updated=0, rejected=0
    )
    AccessAttempt.objects.create(
        username="x",
        ip_address="10.0.0.1",
        user_agent="",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    AccessLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="")
    AccessFailureLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="")


def _granted(user, model, action: str) -> bool:
    """What the user's groups grant for one admin page of `model` (the roles migrations)."""
    opts = model._meta
    perms = {
        p.split(".", 1)[1] for p in user.get_group_permissions() if p.startswith(opts.app_label)
    }
    needs = {
        "changelist": {"view", "change"},
        "change": {"view", "change"},
        "history": {"view", "change"},
        "add": {"add"},
        "delete": {"delete"},
    }[action]
    return any(f"{need}_{opts.model_name}" in perms for need in needs)


def _admin_pages() -> Iterator[tuple[type, str]]:
    for model in admin.site._registry:
        for action in ("changelist", "add", "change", "history", "delete"):
            yield model, action


@pytest.mark.parametrize("persona", ["alice", "sam"])
def test_a_role_reaches_exactly_the_admin_pages_its_permissions_grant(
    request, persona, one_of_each
):
    user = request.getfixturevalue(persona)
    client = Client()
    client.force_login(user)
    reached = set()
    for model, action in _admin_pages():
        opts = model._meta
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {opts.model_name} to try"
        args = "" if action in ("changelist", "add") else f"{obj.pk}/"
        suffix = {"changelist": "", "add": "add/", "change": "change/"}.get(action, f"{action}/")
        path = f"/admin/{opts.app_label}/{opts.model_name}/{args}{suffix}"
        status = client.get(path).status_code
        if status == 200:
            reached.add(f"{opts.model_name}:{action}")
            assert _granted(user, model, action), f"{persona} reached {path} without permission"
        else:
            assert status == 403, f"{persona}: {path} gave {status}"

    everyone = {f"customer:{a}" for a in ("changelist", "add", "change", "history")}
    # Everyone with the role sees every follow-up (as on /callbacks/); only supervisors change one.
    everyone |= {f"followup:{a}" for a in ("changelist", "change", "history")}
    # The wallboard's queues and display links are the administrators' alone: no role has them.
    assert (
        reached
        == {
            "alice": everyone,
            "sam": everyone
            | {"customer:delete"}
            | {f"hangupattempt:{a}" for a in ("changelist", "change", "history")}
            | {f"customerimport:{a}" for a in ("changelist", "change", "history")},
        }[persona]
    )


@pytest.mark.parametrize("persona", ["alice", "sam"])
def test_no_role_reaches_the_admin_of_users_groups_or_logins(request, persona):
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    for path in ["/admin/auth/", "/admin/auth/user/", "/admin/auth/group/", "/admin/axes/"]:
        assert client.get(path).status_code in (403, 404), path  # the admin's 404: "no such app"
    index = client.get("/admin/").content.decode()
    assert "/admin/auth/user/" not in index and "/admin/axes/" not in index


def test_a_staff_member_without_a_role_reaches_no_model(one_of_each):
    nobody = get_user_model().objects.create_user("nobody", password="x-pass-123", is_staff=True)
    client = Client()
    client.force_login(nobody)
    for model, action in _admin_pages():
        opts = model._meta
        pk = model._default_manager.order_by("pk").first().pk
        suffix = {"changelist": "", "add": "add/"}.get(action, f"{pk}/{action}/")
        path = f"/admin/{opts.app_label}/{opts.model_name}/{suffix}"
        assert client.get(path).status_code == 403, path
    assert client.get("/admin/customers/customer/import/").status_code == 403
    assert client.get("/admin/customers/customer/export/").status_code == 403


NAV = {r: f"/{r}" for r in ("", "history/", "callbacks/", "stats/", "wallboard/", "profile/")}


@pytest.mark.parametrize("persona", PERSONAS[1:])
def test_the_menu_links_only_the_pages_the_persona_may_open(personas, persona):
    # The panel, or for an account without a role the page refusing it: both have the menu.
    page = personas[persona].get("/").content.decode()
    page = page[page.index("<nav") : page.index("</nav>")]
    linked = {route for route, href in NAV.items() if f'href="{href}"' in page}
    allowed = {r for r in NAV if ACCESS[r][0].expected[PERSONAS.index(persona)] == 200}
    assert linked == allowed
