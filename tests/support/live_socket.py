"""A panel's websocket against the ASGI application in this process (real session
authentication, real Redis channel layer), and the real poll task run in this process, for tests
that read what a connected browser would receive."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from calls.tasks import poll_active_calls_task
from telsam_panel.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1")


async def open_socket(path: str, user=None, origin=ORIGIN) -> WebsocketCommunicator:
    """A websocket to `path` of a fresh session of `user` (None: nobody logged in), not
    connected yet."""
    headers = [(b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if origin:
        headers.append(origin)
    return WebsocketCommunicator(application, path, headers=headers)


async def open_panel(user, origin=ORIGIN) -> WebsocketCommunicator:
    """A panel's websocket of a fresh session of `user`, not connected yet."""
    return await open_socket("/ws/calls/", user, origin)


async def connected_panel(user) -> tuple[WebsocketCommunicator, dict]:
    """A connected panel and the snapshot it received first."""
    panel = await open_panel(user)
    connected, _ = await panel.connect()
    assert connected
    snapshot = await panel.receive_json_from(timeout=3)
    assert snapshot["type"] == "snapshot"
    return panel, snapshot


async def poll() -> None:
    """One poll, by the real Celery task run in this process."""
    await sync_to_async(poll_active_calls_task.apply)()


async def next_diff(panel: WebsocketCommunicator) -> dict:
    """The next message `panel` receives, which must be a diff."""
    message = await panel.receive_json_from(timeout=3)
    assert message["type"] == "diff"
    return message


def fresh_channel_layers() -> None:
    """Channel layers of their own for what runs next, as each web process has.

    A web process runs one event loop for its life; tests run one each. channels-redis keeps
    asyncio locks on the layer, and a receive cancelled while it waits for one (a panel
    disconnecting just after a push) leaves that lock behind for good, bound to its loop: the next
    loop to wait on it fails with "bound to a different event loop"
    (tests/calls/live/test_channel_layers.py).
    """
    channel_layers.backends = {}
