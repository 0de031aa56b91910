"""The live-calls websocket: join the process's fan-out, send the snapshot, then every push."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import cached_property

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import HASH_SESSION_KEY

from calls.live import payloads
from calls.live.client_messages import RESYNC, ResyncAllowance, message_type
from calls.live.fanout import process_fanout
from calls.live.session_watch import Pass, SessionPass, Standing, session_watch
from calls.live.snapshot import load_snapshot_text

logger = logging.getLogger(__name__)

# Close code for "log in first": the browser goes to the login page instead of reconnecting.
CLOSE_UNAUTHENTICATED = Standing.SESSION_ENDED.value
# Close code for "logged in, but no role that shows live calls": the page says so, no retry.
CLOSE_FORBIDDEN = Standing.FORBIDDEN.value
# The server failed while answering (what uvicorn sends for an exception in the application).
CLOSE_INTERNAL_ERROR = 1011
# Sent before the first poll has stored anything: a run of "" makes the first diff trigger a resync.
_NO_SNAPSHOT_YET = payloads.encode(
    payloads.snapshot_message(
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


class StreamConsumer(AsyncWebsocketConsumer):
    """A socket that streams one broadcast group: the stored state on connect and on a resync,
    then every push. Subclasses say who may connect (`pass_of_scope`), which group they stream
    and where its stored state is (`load_state_text`); the live calls' is `LiveCallsConsumer`."""

    group = payloads.GROUP
    # Sent when nothing is stored yet.
    no_state_text = _NO_SNAPSHOT_YET
    _ended = False
    _resync_later: asyncio.Task[None] | None = None
    _resync_wanted = False

    def pass_of_scope(self) -> Pass | None:
        """The pass this socket asks to be let in with, or None: log in first."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        session = self.scope["session"]
        return SessionPass(session.session_key, user.pk, session.get(HASH_SESSION_KEY, ""))

    def load_state_text(self) -> str | None:
        return load_snapshot_text()

    async def connect(self) -> None:
        entry = self.pass_of_scope()
        if entry is None:
            # Accept only to close with a code the page understands; no data is ever sent.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The right to watch lasts as long as this session and the user's role: checked now, then
        # every few seconds with the process's other sockets (calls.live.session_watch).
        try:
            standing = await session_watch().admit(entry)
        except Exception as exc:  # the database is out of reach: the page retries
            logger.warning("Could not check a connecting socket's pass, closing it: %s", exc)
            standing = None
        # Accepted before anything can close it: a close before the accept would be an HTTP 403,
        # which the page sees as 1006 instead of the code below. No data goes out before the
        # snapshot.
        await self.accept()
        if standing is not Standing.OK:
            await self.close(code=CLOSE_INTERNAL_ERROR if standing is None else standing.value)
            return
        session_watch().watch(self, entry)
        await self._resync()

    async def disconnect(self, code: int) -> None:
        self._stop_streaming()

    def _stop_streaming(self) -> None:
        """No push and no answer after this; the process forgets the socket."""
        self._ended = True
        if self._resync_later not in (None, asyncio.current_task()):  # not when it closes itself
            self._resync_later.cancel()
        session_watch().forget(self)
        process_fanout(self.group).discard(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Anything but a resync is ignored (calls.live.client_messages; oversized messages never get
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
        """Join (group membership expires in the channel layer and is lost when Redis restarts;
        a resync, sent by a page that has heard nothing for a while, renews it), then send the
        snapshot. If that fails, the socket leaves the process's tables and closes with 1011, and
        the page reconnects: Channels calls `disconnect` only after handlers that returned, so a
        failing join (Redis restarting) would otherwise leave a socket collecting pushes for
        hours at every reconnect attempt."""
        try:
            await self._join_broadcast()
            await self._send_snapshot()
        except Exception as exc:
            logger.warning("Could not send a panel its snapshot, closing the socket: %s", exc)
            self._stop_streaming()
            with contextlib.suppress(Exception):  # already gone is as good as closed
                await self.close(code=CLOSE_INTERNAL_ERROR)

    async def _resync_when_allowed(self) -> None:
        while self._resync_wanted:
            wait = self._resyncs.take()
            if wait:
                await asyncio.sleep(wait)
                continue
            self._resync_wanted = False
            await self._resync()

    def end(self, standing: Standing) -> None:
        """The session ended or the role went (calls.live.session_watch): no push after this
        returns. The watch then closes the socket with `standing` as its code."""
        self._stop_streaming()

    async def _join_broadcast(self) -> None:
        # Subscribed first, then the state read, so no diff can fall between the two. Pushes
        # reach this socket through the process's one group member (calls.live.fanout).
        if not self._ended:  # a resync that came as the session ended gets nothing
            await process_fanout(self.group).add(self)

    async def _send_snapshot(self) -> None:
        """The stored state, then the pushes that came while it was read, then every push."""
        text = await sync_to_async(self.load_state_text, thread_sensitive=False)()
        if self._ended:  # closed while the snapshot was read (calls.live.session_watch)
            return
        await self.send(text_data=text or self.no_state_text)
        await process_fanout(self.group).go_live(self)


class LiveCallsConsumer(StreamConsumer):
    """`/ws/calls/`: the live calls, for users who may see them (calls.access.LIVE_CALLS)."""
