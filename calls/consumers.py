"""The live-calls websocket: join the process's fan-out, send the snapshot, then every push."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from functools import cached_property

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from calls import events
from calls.client_messages import RESYNC, ResyncAllowance, message_type
from calls.fanout import process_fanout
from calls.live_state import load_snapshot_text

logger = logging.getLogger(__name__)

# Close code for "log in first": the browser goes to the login page instead of reconnecting.
CLOSE_UNAUTHENTICATED = 4401
# The server failed while answering (what uvicorn sends for an exception in the application).
CLOSE_INTERNAL_ERROR = 1011
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
# How many channel-layer calls (joining and leaving groups) one web process makes at once. A
# thousand browsers reconnecting together (a restarted server, a network blip) would otherwise
# each take a Redis connection at the same moment; past the layer's pool limit (redis-py: 100)
# the call raises, the socket dies, and the browser comes back to try again (bench/live_latency.py
# measured the cascade). Waiting for a slot costs milliseconds.
_LAYER_CALLS_AT_ONCE = 50
_layer_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _layer_slot() -> asyncio.Semaphore:
    """The running event loop's limit on simultaneous channel-layer calls."""
    loop = asyncio.get_running_loop()
    slot = _layer_slots.get(loop)
    if slot is None:
        slot = _layer_slots[loop] = asyncio.Semaphore(_LAYER_CALLS_AT_ONCE)
    return slot


class LiveCallsConsumer(AsyncWebsocketConsumer):
    _session_timer: asyncio.TimerHandle | None = None
    _resync_later: asyncio.Task[None] | None = None
    _resync_wanted = False

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
        async with _layer_slot():
            await self.channel_layer.group_add(self.user_group, self.channel_name)
        # The session is already loaded (the user was read from it): no trip to the database or to
        # the one sync thread, which a thousand connecting browsers would queue up behind.
        seconds_left = await self.scope["session"].aget_expiry_age()
        self._session_timer = asyncio.get_running_loop().call_later(
            seconds_left, lambda: asyncio.ensure_future(self.session_ended({}))
        )
        # Subscribe first, then read the state, so no diff can fall between the two.
        await self._join_broadcast()
        await self.accept()
        await self._send_snapshot()

    async def disconnect(self, code: int) -> None:
        if self._session_timer is not None:
            self._session_timer.cancel()
        if self._resync_later is not None:
            self._resync_later.cancel()
        process_fanout().discard(self)
        if hasattr(self, "user_group"):
            async with _layer_slot():
                await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Anything but a resync is ignored (calls.client_messages; oversized messages never get
        # here: the web server closes their socket with 1009).
        if message_type(text_data) != RESYNC:
            return
        if self._resync_later is not None and not self._resync_later.done():
            self._resync_wanted = True  # answered by the snapshot already due
        elif self._resyncs.take() == 0:
            await self._resync()
        else:
            # Past the allowance, answered later, once for all that come meanwhile: a page never
            # goes unanswered, and a flood costs one snapshot a second. Not awaited here, so the
            # socket's other events (its session ending) are handled meanwhile.
            self._resync_wanted = True
            self._resync_later = asyncio.create_task(self._resync_when_allowed())

    @cached_property
    def _resyncs(self) -> ResyncAllowance:
        return ResyncAllowance()

    async def _resync(self) -> None:
        # Group membership expires in the channel layer and is lost when Redis restarts; a
        # resync (sent by a page that has heard nothing for a while) renews it.
        await self._join_broadcast()
        await self._send_snapshot()

    async def _resync_when_allowed(self) -> None:
        try:
            while self._resync_wanted:
                wait = self._resyncs.take()
                if wait:
                    await asyncio.sleep(wait)
                    continue
                self._resync_wanted = False
                await self._resync()
        except Exception as exc:  # as an answer given at once would: the page reconnects
            logger.warning("Could not answer a resync, closing the socket: %s", exc)
            with contextlib.suppress(Exception):  # already gone is as good as closed
                await self.close(code=CLOSE_INTERNAL_ERROR)

    async def session_ended(self, event: dict) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _join_broadcast(self) -> None:
        # Pushes reach this socket through the process's one group member (calls.fanout).
        await process_fanout().add(self)

    async def _send_snapshot(self) -> None:
        """The stored state, then the pushes that came while it was read, then every push."""
        text = await sync_to_async(load_snapshot_text, thread_sensitive=False)()
        await self.send(text_data=text or _NO_SNAPSHOT_YET)
        await process_fanout().go_live(self)
