"""One event loop per process for the pushes a poll sends through the channel layer.

`async_to_sync` starts a new event loop for each call it makes from a worker's thread, and the
channel layer keeps its Redis connections per loop: every push paid for a new loop and a new
connection (3 ms of a poll's 4 ms push; bench/wallboard_cost.py). Here the pushes run on one loop
that lives in a thread of its own, so its connections are kept from one poll to the next. A
process forked after the loop started (Celery's prefork pool) starts its own.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def run_on_sender_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine `make()` returns on the process's sender loop and wait for its result
    (its exception is raised here)."""
    return asyncio.run_coroutine_threadsafe(_awaited(make), _sender_loop()).result()


async def _awaited(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


def _sender_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="channel-layer sender", daemon=True
            )
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop
