"""Tests run one event loop each, a web process one for its life: a channel layer a test's loop
left a lock in must not reach the next test (tests/support/live_socket.fresh_channel_layers)."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from tests.support.live_socket import fresh_channel_layers

KEY = "asgi:specific.test!"


async def _leave_a_cancelled_waiter(layer) -> None:
    """What a panel disconnecting just after a push does to the layer: a receive waits for the
    channel's clean-up lock, held by the one in flight, and is cancelled."""
    locks = layer.receive_clean_locks
    await locks.acquire(KEY)
    waiting = asyncio.ensure_future(locks.acquire(KEY))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    locks.release(KEY)


async def _contend(layer) -> None:
    """Two receives of the channel at once, as the next test's panels do."""
    locks = layer.receive_clean_locks
    await locks.acquire(KEY)
    second = asyncio.ensure_future(locks.acquire(KEY))
    await asyncio.sleep(0)
    locks.release(KEY)
    await asyncio.wait_for(second, timeout=1)
    locks.release(KEY)


def test_a_lock_left_by_one_event_loop_reaches_no_later_test():
    asyncio.run(_leave_a_cancelled_waiter(get_channel_layer()))

    # The same layer in a new loop fails (channels-redis keeps the lock, bound to the old loop):
    # why every test gets its own. Should channels-redis stop leaking it, this line says so.
    with pytest.raises(RuntimeError, match="bound to a different event loop"):
        asyncio.run(_contend(get_channel_layer()))

    fresh_channel_layers()  # what each test starts with
    asyncio.run(_contend(get_channel_layer()))
