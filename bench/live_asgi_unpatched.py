"""The panel's ASGI application with the live-calls consumer as it was before the fan-out
fixes, for the before/after comparison in docs/benchmarks.md (`--app unpatched` of
`bench/live_latency.py` and `bench/live_fanout.py`). Not for production.

The consumer below differs from `calls.live.consumer.LiveCallsConsumer` in what the fixes changed:
every socket is a member of the broadcast group itself (the channel layer carries one copy of each
push per socket; `calls.live.fanout` now takes one per process), Channels' own `dispatch` (stale
database connections closed, through the one sync thread, before every message to every socket),
the session's expiry read through that thread too, and no limit on simultaneous channel-layer
calls.
"""

from __future__ import annotations

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telsam_panel.settings")
django_asgi_app = get_asgi_application()

from asgiref.sync import sync_to_async  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.consumer import AsyncConsumer  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from calls.live import payloads  # noqa: E402
from calls.live.consumer import _NO_SNAPSHOT_YET, CLOSE_UNAUTHENTICATED, LiveCallsConsumer  # noqa: E402
from calls.live.snapshot import load_snapshot_text  # noqa: E402


class UnpatchedConsumer(LiveCallsConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_group = payloads.user_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        seconds_left = await database_sync_to_async(self.scope["session"].get_expiry_age)()
        self._session_timer = asyncio.get_running_loop().call_later(
            seconds_left, lambda: asyncio.ensure_future(self.session_ended({}))
        )
        await self.channel_layer.group_add(payloads.GROUP, self.channel_name)
        await self.accept()
        await self._send_snapshot()

    async def disconnect(self, code: int) -> None:
        if self._session_timer is not None:
            self._session_timer.cancel()
        await self.channel_layer.group_discard(payloads.GROUP, self.channel_name)
        if hasattr(self, "user_group"):
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def dispatch(self, message: dict) -> None:
        await AsyncConsumer.dispatch(self, message)

    async def _join_broadcast(self) -> None:
        await self.channel_layer.group_add(payloads.GROUP, self.channel_name)

    async def _send_snapshot(self) -> None:
        text = await sync_to_async(load_snapshot_text, thread_sensitive=False)()
        await self.send(text_data=text or _NO_SNAPSHOT_YET)

    async def calls_push(self, event: dict) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/calls/", UnpatchedConsumer.as_asgi())]))
        ),
    }
)
