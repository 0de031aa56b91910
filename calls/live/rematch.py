"""Live calls follow their customers: when customers' numbers change (an agent adds the caller
from the screen-pop, an import, the admin), the next poll matches every unknown caller still on
the line again, and is asked for at once, so every open panel shows the new name within a poll.

Without a request the poll rematches unknown callers every few polls all the same
(`poll._REMATCH_EVERY_POLLS`); a request lost to a Redis outage only waits for that.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver
from redis.exceptions import RedisError

from calls.live.poll_requests import request_poll
from customers.linking import numbers_changed
from telsam_panel.redis_connection import redis_client

logger = logging.getLogger(__name__)

REMATCH_KEY = "telsam:live:rematch"
_REQUEST_TTL = 60  # seconds: a request no poll took (no worker running) does not linger


@receiver(numbers_changed, dispatch_uid="calls.live.rematch")
def _rematch_on_change(sender, numbers: frozenset[str], **kwargs) -> None:
    ask_for_rematch()


def ask_for_rematch() -> None:
    """Have the next poll match every unknown caller again, and ask for that poll now."""
    try:
        redis_client().set(REMATCH_KEY, 1, ex=_REQUEST_TTL)
    except RedisError as exc:
        logger.warning("Could not ask the poll to match callers again: %s", type(exc).__name__)
        return
    request_poll()


def rematch_asked() -> bool:
    """Whether a rematch was asked for since the last poll took the request (taking it now)."""
    return redis_client().getdel(REMATCH_KEY) is not None
