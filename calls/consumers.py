"""The live-calls websocket: join the process's fan-out, send the snapshot, then every push."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import HASH_SESSION_KEY

from calls import events
from calls.fanout import process_fanout
from calls.live_state import load_snapshot_text
from calls.session_watch import SessionPass, Standing, session_watch

# Close code for "log in first": the browser goes to the login page instead of reconnecting.
CLOSE_UNAUTHENTICATED = Standing.SESSION_ENDED.value
# Close code for "logged in, but no role that shows live calls": the page says so, no retry.
CLOSE_FORBIDDEN = Standing.FORBIDDEN.value
# Sent before the first poll has stored anything: a run of "" makes the first diff trigger a resync.
_NO_SNAPSHOT_YET = events.encode(
    events.snapshot_message(
        "",
        0,
        None,
        [],
        {
            "ok": False,
            "last_ok_at": None,
            "error": "Waiting for the first poll",
            "reason": "waiting",
        },
    )
)


class LiveCallsConsumer(AsyncWebsocketConsumer):
    _ended = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept only to close with a code the page understands; no data is ever sent.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The right to watch lasts as long as this session and the user's role: checked now, then
        # every few seconds with the process's other sockets (calls.session_watch).
        session = self.scope["session"]
        entry = SessionPass(session.session_key, user.pk, session.get(HASH_SESSION_KEY, ""))
        standing = await session_watch().admit(entry)
        if standing is not Standing.OK:
            await self.accept()
            await self.close(code=standing.value)
            return
        session_watch().watch(self, entry)
        # Subscribe first, then read the state, so no diff can fall between the two.
        await self._join_broadcast()
        await self.accept()
        await self._send_snapshot()

    async def disconnect(self, code: int) -> None:
        session_watch().forget(self)
        process_fanout().discard(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "resync":
            # Group membership expires in the channel layer and is lost when Redis restarts; a
            # resync (sent by a page that has heard nothing for a while) renews it.
            await self._join_broadcast()
            await self._send_snapshot()

    async def end(self, standing: Standing) -> None:
        """The session ended or the role went (calls.session_watch): no push after this."""
        self._ended = True
        process_fanout().discard(self)
        await self.close(code=standing.value)

    async def _join_broadcast(self) -> None:
        # Pushes reach this socket through the process's one group member (calls.fanout).
        if not self._ended:  # a resync that came as the session ended gets nothing
            await process_fanout().add(self)

    async def _send_snapshot(self) -> None:
        """The stored state, then the pushes that came while it was read, then every push."""
        text = await sync_to_async(load_snapshot_text, thread_sensitive=False)()
        if self._ended:  # closed while the snapshot was read (calls.session_watch)
            return
        await self.send(text_data=text or _NO_SNAPSHOT_YET)
        await process_fanout().go_live(self)
