"""The live-calls websocket: join the broadcast group, send the snapshot, forward every push."""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from calls import events
from calls.live_state import load_snapshot_text

# Close code for "log in first": the browser goes to the login page instead of reconnecting.
CLOSE_UNAUTHENTICATED = 4401
# Sent before the first poll has stored anything: a run of "" makes the first diff trigger a resync.
_NO_SNAPSHOT_YET = events.encode(
    events.snapshot_message(
        "", 0, None, [], {"ok": False, "last_ok_at": None, "error": "Waiting for the first poll"}
    )
)


class LiveCallsConsumer(AsyncWebsocketConsumer):
    _session_timer: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept only to close with a code the page understands; no data is ever sent.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The right to watch ends with the session: at logout (a push to this user's group) or
        # when the session expires (a timer), whichever comes first.
        self.user_group = events.user_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        seconds_left = await database_sync_to_async(self.scope["session"].get_expiry_age)()
        self._session_timer = asyncio.get_running_loop().call_later(
            seconds_left, lambda: asyncio.ensure_future(self.session_ended({}))
        )
        # Subscribe first, then read the state, so no diff can fall between the two.
        await self.channel_layer.group_add(events.GROUP, self.channel_name)
        await self.accept()
        await self._send_snapshot()

    async def disconnect(self, code: int) -> None:
        if self._session_timer is not None:
            self._session_timer.cancel()
        await self.channel_layer.group_discard(events.GROUP, self.channel_name)
        if hasattr(self, "user_group"):
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "resync":
            # Group membership expires in the channel layer; a resync renews it.
            await self.channel_layer.group_add(events.GROUP, self.channel_name)
            await self._send_snapshot()

    async def calls_push(self, event: dict) -> None:
        """A message broadcast by the poller, already encoded once for all sockets."""
        await self.send(text_data=event["text"])

    async def session_ended(self, event: dict) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _send_snapshot(self) -> None:
        text = await sync_to_async(load_snapshot_text, thread_sensitive=False)()
        await self.send(text_data=text or _NO_SNAPSHOT_YET)
