"""The process's Redis connection pool, shared by the live snapshot, the poll's lock and the
call-history sync's lock (the channel layer and Celery open their own)."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def redis_client() -> redis.Redis:
    """One connection pool per process; short timeouts so a dead Redis fails a poll, not hangs."""
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )
