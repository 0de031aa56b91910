"""An open panel ends with its own session, whichever way that ends, and with its user's role.

Real ASGI application with session authentication, real Redis channel layer, real poll task: each
browser below is a session of its own (a `Client` logged in), and each panel a websocket opened
with that browser's cookie. The server checks its open sockets every few seconds
(calls.live.session_watch); a panel must close within 5 s of its session ending. Tests of what a
check finds run checks every 0.2 s (`quick_session_checks`); one test keeps the shipped interval.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone

from calls.live.consumer import CLOSE_FORBIDDEN, CLOSE_INTERNAL_ERROR, CLOSE_UNAUTHENTICATED
from calls.live.session_watch import (
    CHECK_SECONDS,
    CHECK_TIMEOUT_SECONDS,
    SessionPass,
    Standing,
    session_watch,
)
from telsam_panel.asgi import application
from tests.support.live_socket import ORIGIN, poll
from tests.support.waiting import until

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("live_redis"),
]

CLOSES_WITHIN_S = 5.0


async def browser_of(user) -> Client:
    """A browser of its own (its own session) logged in as `user`."""
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    return browser


def session_key(browser: Client) -> str:
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def socket_of(browser: Client) -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key(browser)}"
    headers = [(b"cookie", cookie.encode()), (b"host", b"127.0.0.1"), ORIGIN]
    return WebsocketCommunicator(application, "/ws/calls/", headers=headers)


async def panel_of(browser: Client) -> WebsocketCommunicator:
    """A connected panel of `browser`, past its first snapshot."""
    panel = socket_of(browser)
    connected, _ = await panel.connect()
    assert connected
    assert (await panel.receive_json_from(timeout=3))["type"] == "snapshot"
    return panel


async def closing_of(panel: WebsocketCommunicator, since: float) -> tuple[int, float]:
    """The close code `panel` receives next (no data before it), and seconds since `since`."""
    message = await panel.receive_output(timeout=CLOSES_WITHIN_S + 1)
    assert message["type"] == "websocket.close", f"data instead of closing: {message}"
    return message["code"], time.monotonic() - since


async def still_streaming(panel: WebsocketCommunicator) -> None:
    await poll()
    message = await panel.receive_json_from(timeout=3)
    assert message["type"] == "diff"


def _expire(browser: Client) -> None:
    Session.objects.filter(pk=session_key(browser)).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )


def _delete(browser: Client) -> None:
    # What "log out everywhere" tools and `clearsessions` do, or an administrator in the shell.
    Session.objects.filter(pk=session_key(browser)).delete()


def _change_password(browser: Client) -> None:
    # An administrator sets a new password in the admin: every session of the user ends.
    user = get_user_model().objects.get(username="alice")
    user.set_password("a-new-pass-456")
    user.save()


def _deactivate(browser: Client) -> None:
    get_user_model().objects.filter(username="alice").update(is_active=False)


def _log_out(browser: Client) -> None:
    assert browser.post("/accounts/logout/").status_code == 302


async def test_at_the_shipped_check_interval_a_panel_closes_within_five_seconds(alice):
    browser = await browser_of(alice)
    panel = await panel_of(browser)

    started = time.monotonic()
    await sync_to_async(_log_out)(browser)

    code, seconds = await closing_of(panel, started)
    assert code == CLOSE_UNAUTHENTICATED
    assert seconds < CLOSES_WITHIN_S


@pytest.mark.parametrize(
    "end_session",
    [_log_out, _expire, _delete, _change_password, _deactivate],
    ids=["logout", "expiry", "deletion", "password change", "deactivated"],
)
async def test_a_panel_closes_whichever_way_its_session_ends(
    alice, end_session, quick_session_checks
):
    browser = await browser_of(alice)
    panel = await panel_of(browser)

    started = time.monotonic()
    await sync_to_async(end_session)(browser)

    code, seconds = await closing_of(panel, started)
    assert code == CLOSE_UNAUTHENTICATED  # the page goes to the login page
    assert seconds < CLOSES_WITHIN_S


async def test_a_panel_whose_user_loses_the_role_closes_as_forbidden(alice, quick_session_checks):
    panel = await panel_of(await browser_of(alice))

    started = time.monotonic()
    await sync_to_async(alice.groups.clear)()

    code, seconds = await closing_of(panel, started)
    assert code == CLOSE_FORBIDDEN  # the page says so and does not retry
    assert seconds < CLOSES_WITHIN_S


async def test_logging_out_closes_that_sessions_panels_only(alice, quick_session_checks):
    office, wallboard = await browser_of(alice), await browser_of(alice)
    office_tabs = [await panel_of(office), await panel_of(office)]
    wallboard_panel = await panel_of(wallboard)

    started = time.monotonic()
    await sync_to_async(_log_out)(office)

    for tab in office_tabs:
        code, seconds = await closing_of(tab, started)
        assert (code, seconds < CLOSES_WITHIN_S) == (CLOSE_UNAUTHENTICATED, True)
    # The check that closed the office's tabs has looked at the wallboard too.
    await still_streaming(wallboard_panel)
    await wallboard_panel.disconnect()


async def test_a_password_change_ends_the_other_sessions_and_this_browser_reconnects(
    alice, quick_session_checks
):
    mine, other = await browser_of(alice), await browser_of(alice)
    my_panel, other_panel = await panel_of(mine), await panel_of(other)

    started = time.monotonic()
    changed = await sync_to_async(mine.post)(
        "/accounts/password_change/",
        {
            "old_password": "alice-pass-123",
            "new_password1": "a-new-pass-456",
            "new_password2": "a-new-pass-456",
        },
    )
    assert changed.status_code == 302

    # Both close: the other session has ended, and Django gave this one a new key (the page
    # reloads itself and is back at once, static/js/panel.js).
    for panel in (other_panel, my_panel):
        code, seconds = await closing_of(panel, started)
        assert (code, seconds < CLOSES_WITHIN_S) == (CLOSE_UNAUTHENTICATED, True)
    reloaded = await panel_of(mine)
    await still_streaming(reloaded)
    await reloaded.disconnect()
    refused = socket_of(other)
    assert (await refused.connect())[0]
    assert (await refused.receive_output(timeout=3))["code"] == CLOSE_UNAUTHENTICATED


async def test_an_account_without_a_role_gets_no_data_over_the_websocket(db):
    nobody = await sync_to_async(get_user_model().objects.create_user)("nobody", password="x-12345")
    panel = socket_of(await browser_of(nobody))
    connected, _ = await panel.connect()
    assert connected  # accepted only to be closed with a code the page understands
    assert await panel.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": CLOSE_FORBIDDEN,
    }


@pytest.mark.parametrize("persona", ["agent", "supervisor", "administrator"])
async def test_every_role_that_shows_live_calls_is_let_in(alice, sam, persona):
    user = (
        await sync_to_async(get_user_model().objects.create_superuser)("root", password="r-12345")
        if persona == "administrator"  # a superuser, in no group
        else {"agent": alice, "supervisor": sam}[persona]
    )
    panel = await panel_of(await browser_of(user))
    await still_streaming(panel)
    await panel.disconnect()


class StuckPanel:
    """A socket whose close never completes, as when the server's buffer for a browser that
    stopped reading is full (a test cannot make the ASGI server's close wait on TCP)."""

    def __init__(self) -> None:
        self.ended: Standing | None = None
        self.closing = asyncio.Event()

    def end(self, standing: Standing) -> None:
        self.ended = standing

    async def close(self, code: int) -> None:
        self.closing.set()
        await asyncio.Event().wait()


async def test_a_browser_that_stopped_reading_does_not_hold_up_the_other_panels_closing(
    alice, quick_session_checks
):
    stuck_browser, other_browser = await browser_of(alice), await browser_of(alice)
    stuck = StuckPanel()
    entry = SessionPass(session_key(stuck_browser), alice.pk, alice.get_session_auth_hash())
    session_watch().watch(stuck, entry)  # first in line at every check
    panel = await panel_of(other_browser)

    started = time.monotonic()
    await sync_to_async(_change_password)(other_browser)  # ends both sessions

    code, seconds = await closing_of(panel, started)
    assert (code, seconds < CLOSES_WITHIN_S) == (CLOSE_UNAUTHENTICATED, True)
    assert stuck.ended is Standing.SESSION_ENDED
    assert stuck.closing.is_set()
    assert len(session_watch()) == 0


def _lock_permissions():
    """Another connection holding the permission table (which only the checks read, not the login
    or the session middleware), as a database behind a partition looks to the checks: their query
    waits and never answers."""
    locker = connection.copy()
    with locker.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("LOCK TABLE auth_permission IN ACCESS EXCLUSIVE MODE")
    return locker


def _unlock(locker) -> None:
    with locker.cursor() as cursor:
        cursor.execute("ROLLBACK")
    locker.close()


def _checks_waiting() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a table lock needs PostgreSQL")
async def test_a_check_the_database_does_not_answer_gives_up_and_open_panels_stay(alice, caplog):
    browser = await browser_of(alice)
    panel = await panel_of(browser)
    locker = await sync_to_async(_lock_permissions)()
    try:
        started = time.monotonic()
        connecting = socket_of(browser)
        connected, _ = await connecting.connect(timeout=CHECK_TIMEOUT_SECONDS + 3)
        assert connected  # refused with a code the page answers by reconnecting
        assert (await connecting.receive_output(timeout=3))["code"] == CLOSE_INTERNAL_ERROR
        assert time.monotonic() - started < CHECK_TIMEOUT_SECONDS + 1.5
        # The open panel keeps streaming while its checks time out, and a check that never
        # answered holds the one database connection it had: none is started beside it.
        await until(
            lambda: "Cannot check the open panels' sessions" in caplog.text,
            timeout=CHECK_SECONDS + CHECK_TIMEOUT_SECONDS + 2,
        )
        await still_streaming(panel)
        assert await sync_to_async(_checks_waiting)() == 1
    finally:
        await sync_to_async(_unlock)(locker)
    again = await panel_of(browser)
    await still_streaming(again)
    await asyncio.gather(panel.disconnect(), again.disconnect())
