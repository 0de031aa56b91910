"""One channel-layer member per web process: each push reaches a process once and its sockets from
there.

With every socket in the broadcast group itself, the channel layer carries one copy of each diff
per socket (the core layer: a Redis list entry each, popped one round trip at a time) and Channels
wakes one consumer task per copy. With a thousand panels that was most of the time from the poll
to the last browser (bench/live_latency.py, docs/benchmarks.md). Here one listener per process
receives the diff and hands the same text to each socket in turn. A send only hands bytes to the
server's transport, so the loop does not wait on browsers, except one whose buffer is full: that
one is given up after a second (see `_deliver`).

A socket joins as *pending*: pushes are kept for it until its snapshot has gone out, then sent in
order, so a browser never sees a diff before its snapshot and misses none in between (the page
ignores the ones the snapshot already holds).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from calls.live import payloads

logger = logging.getLogger(__name__)

# After the channel layer fails (Redis down), wait this long before listening again.
_RETRY_SECONDS = 1.0
# A group call that takes longer has lost its connection.
_LAYER_CALL_SECONDS = 3.0
# Poll intervals without a push after which the listener renews its connection and membership
# (the browser's watchdog waits as long before its resync).
_SILENT_POLLS = 3
# How long a push may wait for one socket before that socket is given up.
_SEND_WAIT_SECONDS = 1.0


class Socket(Protocol):
    async def send(self, text_data: str) -> None: ...

    async def close(self) -> None: ...


class ProcessFanout:
    """A broadcast group's one member in this process (one event loop)."""

    def __init__(self, group: str = payloads.GROUP) -> None:
        self._group = group
        self._layer = get_channel_layer()
        self._channel: str | None = None
        self._listener: asyncio.Task[None] | None = None
        self._joining: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()  # referenced until done
        # The stall check of `_deliver`.
        self._watch: asyncio.TimerHandle | None = None
        self._sent = 0
        self._sending_to: Socket | None = None
        self._stuck: Socket | None = None
        # A socket's pushes waiting for its snapshot (a list), or None once it is live.
        self._sockets: dict[Socket, list[str] | None] = {}

    def __len__(self) -> int:
        """How many sockets this process pushes to or collects pushes for."""
        return len(self._sockets)

    async def add(self, socket: Socket) -> None:
        """Start collecting pushes for `socket`; returns once this process is in the group, so the
        snapshot read after it cannot miss a diff."""
        # Held before the first await: a resyncing browser must get nothing between its request
        # and its snapshot, or it sees another gap and asks again (a storm that fed itself).
        self._sockets[socket] = []
        try:
            await self.join()
        except BaseException:
            # Not in the group, so no snapshot follows and nobody would ever discard it: its
            # pending list would grow with every push for as long as the process runs.
            self.discard(socket)
            raise
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name=f"{self._group} fan-out")

    async def go_live(self, socket: Socket) -> None:
        """The snapshot has been sent: deliver what came meanwhile, then every push as it comes."""
        # Looked up again after each send: the socket may be discarded meanwhile (its session
        # ended, calls.live.session_watch), and a closed socket must get nothing more.
        while pending := self._sockets.get(socket):
            await socket.send(text_data=pending.pop(0))
        if socket in self._sockets:
            self._sockets[socket] = None

    def discard(self, socket: Socket) -> None:
        self._sockets.pop(socket, None)

    async def join(self) -> None:
        """Join (or renew) the broadcast group. Membership expires in the layer and is lost when
        Redis restarts; a browser's resync calls this again. Sockets asking at the same moment
        (a thousand after a restart) share one call."""
        if self._joining is None:
            self._joining = asyncio.ensure_future(self._join())
            self._joining.add_done_callback(self._joined)
        await asyncio.shield(self._joining)

    async def _join(self) -> None:
        if self._channel is None:
            # The layer's default prefix: the core layer reads one process-specific channel for
            # all of the process's receivers.
            self._channel = await self._layer.new_channel()
        # The layer waits on Redis without a timeout (its reads block by design): a connection
        # lost in a silent network would hang every socket that joins.
        async with asyncio.timeout(_LAYER_CALL_SECONDS):
            await self._layer.group_add(self._group, self._channel)

    async def _retire_channel(self) -> None:
        """Leave the group with the channel whose read was given up; the next join makes a new
        one. The pub/sub layer forgets a channel whose read was cancelled, and the core layer would
        keep pushing to it until the membership expired."""
        channel, self._channel = self._channel, None
        try:
            async with asyncio.timeout(_LAYER_CALL_SECONDS):
                await self._layer.group_discard(self._group, channel)
        except Exception:  # Redis out of reach: the membership expires by itself
            logger.debug("Could not leave the group with a retired channel", exc_info=True)

    def _joined(self, joining: asyncio.Future[None]) -> None:
        self._joining = None
        if not joining.cancelled():
            joining.exception()  # retrieved here; each waiter gets it raised as well

    async def _listen(self) -> None:
        # The poller pushes every poll, so this much silence means the read itself is stuck (a
        # connection dropped by a silent network), or the membership is gone (Redis restarted).
        silence = _SILENT_POLLS * settings.TELSAM_POLL_INTERVAL
        renew = failing = False
        while True:
            reading = False
            try:
                if renew:
                    await self.join()
                    renew = False
                reading = True
                async with asyncio.timeout(silence):
                    message = await self._layer.receive(self._channel)
            except Exception as exc:  # the listener must outlive any layer failure
                renew = True
                if reading and isinstance(exc, TimeoutError):
                    logger.debug("No push for %g s: renewing the subscription", silence)
                    await self._retire_channel()
                    continue
                if not failing:
                    logger.warning("Live fan-out lost the channel layer, retrying: %s", exc)
                failing = True
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            if failing:
                logger.info("Live fan-out has the channel layer again")
                failing = False
            if message.get("type") == payloads.PUSH_EVENT:
                await self._deliver(message["text"])

    async def _deliver(self, text: str) -> None:
        # Sends normally finish without waiting. One waits only when a browser has stopped reading
        # and the server's buffer for it is full: the others must not wait long behind it. One
        # timer per push (one per socket made the fan-out a third slower) notices a send that
        # has made no progress and gives that socket up.
        delivery = asyncio.current_task()
        assert delivery is not None
        self._watch = asyncio.get_running_loop().call_later(
            _SEND_WAIT_SECONDS, self._check_progress, delivery, -1
        )
        try:
            for socket, pending in list(self._sockets.items()):
                if pending is not None:
                    pending.append(text)
                    continue
                self._sending_to = socket
                try:
                    await socket.send(text_data=text)
                except asyncio.CancelledError:
                    if self._stuck is not socket:
                        raise
                    delivery.uncancel()
                    self._give_up(socket, "it stopped taking pushes")
                except Exception:  # a broken socket only loses its own pushes
                    self._give_up(socket, "a send failed")
                self._sent += 1
        finally:
            self._watch.cancel()
            self._sending_to = self._stuck = None

    def _check_progress(self, delivery: asyncio.Task[None], sent_before: int) -> None:
        if self._sent == sent_before and self._sending_to is not None:
            self._stuck = self._sending_to
            delivery.cancel()
        else:
            self._watch = asyncio.get_running_loop().call_later(
                _SEND_WAIT_SECONDS, self._check_progress, delivery, self._sent
            )

    def _give_up(self, socket: Socket, why: str) -> None:
        """Stop pushing to `socket` and close it: its browser, if still there, reconnects and
        resyncs."""
        logger.info("Closing a live-calls socket: %s", why)
        self.discard(socket)
        closing = asyncio.create_task(_close_quietly(socket))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)


async def _close_quietly(socket: Socket) -> None:
    try:
        await socket.close()
    except Exception:  # already gone is as good as closed
        logger.debug("The socket was already gone", exc_info=True)


_fanouts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ProcessFanout]] = (
    weakref.WeakKeyDictionary()
)


def process_fanout(group: str = payloads.GROUP) -> ProcessFanout:
    """The running event loop's fan-out of `group` (one per web process; tests run several
    loops): the live calls' by default, the wallboard's (calls.wallboard) beside it."""
    fanouts = _fanouts.setdefault(asyncio.get_running_loop(), {})
    fanout = fanouts.get(group)
    if fanout is None:
        fanout = fanouts[group] = ProcessFanout(group)
    return fanout
