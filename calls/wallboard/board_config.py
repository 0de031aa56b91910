"""What the wallboard reads from the database: the queues admins set up (name, service-level
threshold, alert levels), and the extensions to show with the agents behind them.

Read after a poll, every poll: kept for `CACHE_SECONDS` in the process, so a poll costs no query
most of the time and a change in the admin shows within seconds.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone

from calls.models import AgentProfile, CallHourStat, WallboardQueue
from customers.phones import is_extension

logger = logging.getLogger(__name__)

CACHE_SECONDS = 10.0
# Extensions that took or made a call this recently are on the board even without an agent.
HISTORY_DAYS = 7


@dataclass(frozen=True)
class BoardConfig:
    queues: tuple[str, ...] = ()  # set up in the admin: on the board even when empty
    names: dict[str, str] = field(default_factory=dict)
    sl_by_queue: dict[str, int] = field(default_factory=dict)
    thresholds: dict[str, WallboardQueue] = field(default_factory=dict)
    extensions: tuple[str, ...] = ()
    agents: dict[str, str] = field(default_factory=dict)  # extension → the agents' names


_cached: tuple[float, BoardConfig] | None = None
_failing = False


def board_config() -> BoardConfig:
    """The board's settings, read again every `CACHE_SECONDS`. While the database cannot be
    reached the last ones are kept (the live figures do not need it), and that is logged once."""
    global _cached, _failing
    if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
        return _cached[1]
    try:
        # In a savepoint: a failed read leaves the caller's transaction usable (tests run in one).
        with transaction.atomic():
            config = read_board_config()
    except DatabaseError as exc:
        if not _failing:
            logger.warning("Cannot read the wallboard's settings, keeping the last: %s", exc)
        _failing = True
        config = _cached[1] if _cached is not None else BoardConfig()
    else:
        if _failing:
            logger.info("Reading the wallboard's settings again")
        _failing = False
    _cached = (time.monotonic(), config)
    return config


def forget_board_config() -> None:
    """Read the next one from the database (tests, and the admin's saves in this process)."""
    global _cached
    _cached = None


def read_board_config() -> BoardConfig:
    queues = list(WallboardQueue.objects.order_by("queue"))
    agents: defaultdict[str, list[str]] = defaultdict(list)
    profiles = AgentProfile.objects.filter(user__is_active=True).select_related("user")
    for profile in profiles:
        for extension in profile.extension_list:
            agents[extension].append(profile.user.get_full_name() or profile.user.get_username())
    recent = CallHourStat.objects.filter(hour__gte=timezone.now() - timedelta(days=HISTORY_DAYS))
    seen = recent.exclude(extension="").values_list("extension", flat=True).distinct()
    # A call that no agent picked up leaves its queue's number where the extension goes.
    queue_numbers = {q.queue for q in queues}
    queue_numbers |= set(recent.exclude(queue="").values_list("queue", flat=True).distinct())
    extensions = set(agents) | {e for e in seen if is_extension(e) and e not in queue_numbers}
    return BoardConfig(
        queues=tuple(q.queue for q in queues),
        names={q.queue: q.name for q in queues if q.name},
        sl_by_queue={q.queue: q.service_level_seconds for q in queues},
        thresholds={q.queue: q for q in queues},
        extensions=tuple(sorted(extensions, key=lambda e: (len(e), e))),
        agents={extension: ", ".join(names) for extension, names in agents.items()},
    )
