"""Is the panel healthy? The database, Redis, and the age of the last successful PBX poll.

One place for the answer, used by `/healthz` (load balancers, compose healthchecks) and by
`manage.py doctor` (people). Nothing here may reveal a secret: errors are reported by their kind
and a redacted message, never with the connection URL.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from redis.exceptions import RedisError

from calls.cdr_sync import sync_status
from calls.live_state import load_snapshot_text, poll_counters
from telsam_panel.redact import redact

# The poll may lag a little behind its schedule on a busy worker; past this many intervals (and
# never less than MIN_POLL_AGE seconds) the live panel is no longer live.
STALE_AFTER_INTERVALS = 5
MIN_POLL_AGE = 15.0


@dataclass
class Check:
    ok: bool
    detail: str
    data: dict = field(default_factory=dict)


@dataclass
class Health:
    database: Check
    redis: Check
    poller: Check
    # Reported, not part of `ok`: a history sync behind is for monitoring, not a reason for a load
    # balancer to take the web server out of service.
    cdr_sync: Check

    @property
    def ok(self) -> bool:
        return self.database.ok and self.redis.ok and self.poller.ok

    def as_dict(self) -> dict:
        return {"ok": self.ok, **{name: asdict(check) for name, check in self.checks().items()}}

    def checks(self) -> dict[str, Check]:
        return {
            "database": self.database,
            "redis": self.redis,
            "poller": self.poller,
            "cdr_sync": self.cdr_sync,
        }


def max_poll_age() -> float:
    """Seconds after which the last successful poll counts as too old."""
    return max(STALE_AFTER_INTERVALS * settings.TELSAM_POLL_INTERVAL, MIN_POLL_AGE)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Check(False, _failure(exc))
    return Check(True, connection.vendor)


def check_poller(now: datetime | None = None) -> tuple[Check, Check]:
    """(redis, poller): the snapshot lives in Redis, so reading it checks both."""
    now = now or timezone.now()
    try:
        text = load_snapshot_text()
        counters = poll_counters()
    except RedisError as exc:
        return Check(False, _failure(exc)), Check(False, "unknown: Redis is unavailable")
    redis_ok = Check(True, "reachable")
    if text is None:
        return redis_ok, Check(False, "no poll has run yet", {"polls": counters})
    state = json.loads(text)
    pbx = state.get("pbx") or {}
    data = {
        "last_poll_at": state.get("at"),
        "last_ok_at": pbx.get("last_ok_at"),
        "pbx_error": pbx.get("error"),
        "max_age_seconds": max_poll_age(),
        "polls": counters,
    }
    last_poll_age = _age(state.get("at"), now)
    last_ok_age = _age(pbx.get("last_ok_at"), now)
    data["last_poll_age_seconds"] = last_poll_age
    data["last_ok_age_seconds"] = last_ok_age
    if last_poll_age is None or last_poll_age > max_poll_age():
        return redis_ok, Check(
            False, "the poller has stopped (is Celery beat and a worker running?)", data
        )
    if last_ok_age is None or last_ok_age > max_poll_age():
        return redis_ok, Check(False, f"the PBX has not answered: {pbx.get('error')}", data)
    return redis_ok, Check(True, f"last successful poll {last_ok_age:.1f} s ago", data)


def check_cdr_sync(now: datetime | None = None) -> Check:
    """How far behind the call history is, and how many calls await their row."""
    try:
        status = sync_status(now)
    except DatabaseError as exc:
        return Check(False, _failure(exc))
    return Check(not status.stale, status.describe(), status.as_dict())


def check_all() -> Health:
    redis_check, poller_check = check_poller()
    return Health(
        database=check_database(),
        redis=redis_check,
        poller=poller_check,
        cdr_sync=check_cdr_sync(),
    )


def _age(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    return round((now - datetime.fromisoformat(iso)).total_seconds(), 1)


def _failure(exc: Exception) -> str:
    return redact(f"{type(exc).__name__}: {exc}".strip())
