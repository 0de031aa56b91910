"""Who may open which websocket: every route of the ASGI application has a row in SOCKET_ACCESS
saying what an anonymous visitor, an account with no role, an agent, a supervisor and an
administrator get (a new socket without a row fails), as test_access.py does for URLs.

OPEN: the socket streams (its first message arrives); a number: the close code it gets instead
(4401 log in first, 4403 not allowed, 4410 a display link that opens nothing).
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from calls.live.routing import websocket_urlpatterns as live_sockets
from calls.live.session_watch import Standing
from calls.wallboard.display_links import create_display_link
from calls.wallboard.routing import websocket_urlpatterns as wallboard_sockets
from tests.security.test_access import PERSONAS
from tests.support.live_socket import open_socket

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("live_redis"),
]

OPEN = "open"
LOGIN, FORBIDDEN, REVOKED = (
    s.value for s in (Standing.SESSION_ENDED, Standing.FORBIDDEN, Standing.REVOKED)
)
UNKNOWN_TOKEN = "A" * 43  # shaped like a display link's token, and no link's

# route → [(path, what each persona gets, in PERSONAS order)]; "{token}" is an active link's.
SOCKET_ACCESS = {
    # Live calls and the customers behind them: agents and up (calls.access.LIVE_CALLS).
    "ws/calls/": [("/ws/calls/", (LOGIN, FORBIDDEN, OPEN, OPEN, OPEN))],
    # The wallboard (calls.view_wallboard): supervisors and administrators.
    "ws/wallboard/": [("/ws/wallboard/", (LOGIN, FORBIDDEN, FORBIDDEN, OPEN, OPEN))],
    # A display link's screen: its token lets anybody in, a login or a role changes nothing.
    "ws/display/<str:token>/": [
        ("/ws/display/{token}/", (OPEN,) * len(PERSONAS)),
        (f"/ws/display/{UNKNOWN_TOKEN}/", (REVOKED,) * len(PERSONAS)),
    ],
}


def test_every_socket_has_a_row_in_the_access_table():
    routes = {str(pattern.pattern) for pattern in live_sockets + wallboard_sockets}
    assert routes == set(SOCKET_ACCESS), "add or remove rows of SOCKET_ACCESS"


async def _outcome(path: str, user) -> str | int:
    socket = await open_socket(path, user)
    accepted, _ = await socket.connect()
    assert accepted
    output = await socket.receive_output(timeout=3)
    await socket.disconnect()
    if output["type"] == "websocket.close":
        return output["code"]
    assert output["type"] == "websocket.send", output
    return OPEN


@pytest.mark.parametrize("route", sorted(SOCKET_ACCESS))
async def test_each_persona_gets_what_the_socket_table_says(route, alice, sam):
    users = {
        "anonymous": None,
        "no role": await sync_to_async(get_user_model().objects.create_user)(
            "norole", password="norole-pass-123"
        ),
        "agent": alice,
        "supervisor": sam,
        "admin": await sync_to_async(get_user_model().objects.create_superuser)(
            "root", password="root-pass-123"
        ),
    }
    _, token = await sync_to_async(create_display_link)("Koridor", None)
    for path, expected in SOCKET_ACCESS[route]:
        path = path.format(token=token)
        got = tuple([await _outcome(path, users[persona]) for persona in PERSONAS])
        assert got == expected, path
