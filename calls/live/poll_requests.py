"""Asking for a poll outside beat's schedule (after a hang-up, so every panel sees the call leave;
after customers' numbers changed, so every panel sees who is calling).

The request goes to Celery by the task's name: services do not import the task module, which is
an interface over them (`calls.tasks` registers the task under this name).
"""

from __future__ import annotations

import logging

from celery import current_app

logger = logging.getLogger(__name__)

POLL_TASK = "calls.poll_active_calls"


def request_poll(*, rematch: bool = False) -> None:
    """Queue a poll at once; one already running waits for its turn instead of skipping it.
    `rematch`: that poll matches every unknown caller on the line again.

    A failure to queue is logged, never raised: whatever asked for the poll has happened, and
    beat's next poll shows it (a rematch, the poll's periodic one).
    """
    kwargs = {"retry_if_busy": True, **({"rematch": True} if rematch else {})}
    try:
        current_app.send_task(POLL_TASK, kwargs=kwargs)
    except Exception as exc:
        logger.warning("Could not queue a poll: %s", type(exc).__name__)
