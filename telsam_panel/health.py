"""Is the panel healthy? Two questions with two answers, so that one never hides the other.

- `web_health()`: can this web process serve? Its database and Redis. `/healthz` answers it for
  load balancers and the compose healthcheck: a PBX outage or a stopped beat must not take the
  web servers out of rotation, or nobody would see the history, the admin, or the panel's own
  "PBX not answering" banner.
- `data_health()`: is what the panel shows fresh? The poller (beat and a worker polling), the PBX
  answering, and the call-history (CDR) sync. `/healthz/data` answers it for monitoring;
  `manage.py doctor` (people) asks both.

Each check has a status word from a fixed vocabulary (what anyone may read) and a detail in
words with data (what only the people running the call centre may read: the PBX's error text
names its host). Nothing here may reveal a secret: errors are reported by their kind and a
redacted message, never with the connection URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from redis.exceptions import RedisError

from calls.history.cdr_sync import sync_status
from calls.live.snapshot import poll_counters, read_snapshot, redis_client
from telsam_panel.redact import redact

# The poll may lag a little behind its schedule on a busy worker; past this many intervals (and
# never less than MIN_POLL_AGE seconds) the live panel is no longer live. The same for the CDR
# sync, counted in its own intervals.
STALE_AFTER_INTERVALS = 5
MIN_POLL_AGE = 15.0

# Who may read the details (PBX error texts, ages, counters): staff who run the call centre.
# Supervisors and administrators have it; agents and anonymous callers get status words only.
DETAILS_PERMISSION = "calls.view_stats"

# Status words, the whole vocabulary an anonymous caller can see.
OK = "ok"
UNREACHABLE = "unreachable"  # the database or Redis does not answer
UNKNOWN = "unknown"  # cannot tell: what it depends on is down
NOT_YET = "not_yet"  # has not run since Redis started
STOPPED = "stopped"  # the poller: no poll for a while
NOT_ANSWERING = "not_answering"  # the PBX: no successful answer for a while
STALE = "stale"  # the CDR sync: no successful sync for a while
STATUSES = frozenset({OK, UNREACHABLE, UNKNOWN, NOT_YET, STOPPED, NOT_ANSWERING, STALE})


@dataclass
class Check:
    status: str
    detail: str
    data: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.status in STATUSES, self.status

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self, details: bool) -> dict:
        words = {"ok": self.ok, "status": self.status}
        return {**words, "detail": self.detail, "data": self.data} if details else words


@dataclass
class Report:
    checks: dict[str, Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_dict(self, details: bool = False) -> dict:
        return {
            "ok": self.ok,
            **{name: check.as_dict(details) for name, check in self.checks.items()},
        }


def may_see_details(user) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(DETAILS_PERMISSION))


WEB_CHECKS = ("database", "redis")
DATA_CHECKS = ("poller", "pbx", "cdr_sync")


def web_health() -> Report:
    """The web process's own health: what it needs to serve a request."""
    return Report({"database": check_database(), "redis": check_redis()})


def data_health(now: datetime | None = None) -> Report:
    """Whether the live calls and the call history are up to date."""
    now = now or timezone.now()
    poller, pbx = check_live_data(now)
    return Report({"poller": poller, "pbx": pbx, "cdr_sync": check_cdr_sync(now)})


def max_poll_age() -> float:
    """Seconds after which the last poll (or the last successful one) counts as too old."""
    return max(STALE_AFTER_INTERVALS * settings.TELSAM_POLL_INTERVAL, MIN_POLL_AGE)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Check(UNREACHABLE, _failure(exc))
    return Check(OK, connection.vendor)


def check_redis() -> Check:
    try:
        redis_client().ping()
    except RedisError as exc:
        return Check(UNREACHABLE, _failure(exc))
    return Check(OK, "reachable")


def check_live_data(now: datetime) -> tuple[Check, Check]:
    """(poller, pbx), both read from the snapshot the last poll stored in Redis."""
    try:
        state = read_snapshot()
        counters = poll_counters()
    except RedisError:
        unknown = Check(UNKNOWN, "unknown: Redis is unavailable")
        return unknown, unknown
    if state is None:
        return (
            Check(NOT_YET, "no poll has run yet", {"polls": counters}),
            Check(UNKNOWN, "unknown: no poll has run yet"),
        )
    pbx = state.pbx
    last_poll_age = _age(state.at, now)
    last_ok_age = _age(pbx["last_ok_at"], now)
    poller_data = {
        "last_poll_at": state.at,
        "last_poll_age_seconds": last_poll_age,
        "max_age_seconds": max_poll_age(),
        "polls": counters,
    }
    pbx_data = {
        "last_ok_at": pbx["last_ok_at"],
        "last_ok_age_seconds": last_ok_age,
        "max_age_seconds": max_poll_age(),
        "error": redact(pbx["error"]) if pbx["error"] else None,
    }
    if last_poll_age is None or last_poll_age > max_poll_age():
        stopped = "the poller has stopped (is Celery beat and a worker running?)"
        return (
            Check(STOPPED, stopped, poller_data),
            Check(UNKNOWN, "unknown: the poller has stopped", pbx_data),
        )
    poller = Check(OK, f"last poll {last_poll_age:.1f} s ago", poller_data)
    if last_ok_age is None or last_ok_age > max_poll_age():
        return poller, Check(
            NOT_ANSWERING, f"the PBX has not answered: {pbx_data['error']}", pbx_data
        )
    return poller, Check(OK, f"last successful poll {last_ok_age:.1f} s ago", pbx_data)


def check_cdr_sync(now: datetime) -> Check:
    """The call-history sync: how far behind it is, and how many calls await their row
    (`calls.history.cdr_sync.sync_status`, the one answer to where the sync stands)."""
    try:
        status = sync_status(now)
    except DatabaseError as exc:
        return Check(UNKNOWN, f"unknown: the database is unavailable ({_failure(exc)})")
    if status.behind is None:
        return Check(NOT_YET, status.describe(), status.as_dict())
    return Check(STALE if status.stale else OK, status.describe(), status.as_dict())


def _age(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    return round((now - datetime.fromisoformat(iso)).total_seconds(), 1)


def _failure(exc: Exception) -> str:
    return redact(f"{type(exc).__name__}: {exc}".strip())
