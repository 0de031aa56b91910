"""Waiting for something to happen: a condition polled until a deadline, never a fixed sleep
followed by counting (a loaded machine makes the sleep too short, an idle one makes it slow)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, step: float = 0.1) -> T:
    """Call `condition` until it returns something truthy or `timeout` seconds pass; its last
    result either way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step)
    return condition()


def wait_until(condition: Callable[[], T], timeout: float, *, what: str, step: float = 0.1) -> T:
    """`wait_for`, failing the test with `what` (the awaited event, in words) at the deadline."""
    result = wait_for(condition, timeout, step)
    if not result:
        raise AssertionError(f"not within {timeout:g} s: {what}")
    return result


async def until(condition: Callable[[], Any], timeout: float = 5, step: float = 0.01) -> None:
    """In a test's event loop: yield to it until `condition()` holds, at most `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(step)
