"""Celery tasks of the calls app: thin interfaces over service functions."""

from __future__ import annotations

from celery import shared_task

from calls.history.cdr_sync import (
    SWEEP_TASK,
    SyncSummary,
    hard_time_limit,
    sweep,
    sweep_time_limit,
    sync_recent,
    sync_time_limit,
)
from calls.live.poll import PollStatus, poll_active_calls, poll_time_limit
from calls.live.poll_requests import POLL_TASK
from calls.wallboard.live_board import note_cdr_counts


@shared_task(
    bind=True,
    name=POLL_TASK,
    ignore_result=True,
    # A poll stuck on a dead socket is cut off so the next one can run.
    soft_time_limit=poll_time_limit(),
    time_limit=poll_time_limit() + 2,
)
def poll_active_calls_task(self, retry_if_busy: bool = False, rematch: bool = False) -> str:
    """Poll the PBX once (scheduled by beat every TELSAM_POLL_INTERVAL seconds).

    `retry_if_busy` is for polls that must see a change that just happened (a hang-up, a new
    customer): a poll already running may have fetched before it, so this one waits for its turn
    instead of being skipped. `rematch`: see `calls.live.poll.poll_active_calls`.
    """
    status = poll_active_calls(rematch=rematch).status
    if status is PollStatus.SKIPPED and retry_if_busy:
        raise self.retry(countdown=0.2, max_retries=50)
    return status.value


# The limits follow TELSAM_API_TIMEOUT; the store lock outlives them (calls.history.cdr_sync).
@shared_task(
    name="calls.sync_recent_cdr",
    ignore_result=True,
    soft_time_limit=sync_time_limit(),
    time_limit=hard_time_limit(sync_time_limit()),
)
def sync_recent_cdr_task() -> dict:
    """Copy new call history from the PBX (scheduled by beat every TELSAM_CDR_SYNC_INTERVAL)."""
    summary = sync_recent()
    note_cdr_counts()  # the wallboard's counts of today, corrected at the next poll
    return _summary(summary)


@shared_task(
    name=SWEEP_TASK,
    ignore_result=True,
    soft_time_limit=sweep_time_limit(),
    time_limit=hard_time_limit(sweep_time_limit()),
)
def sweep_cdr_task() -> dict:
    """Re-read the last 24 hours of call history (scheduled by beat every hour)."""
    summary = sweep()
    note_cdr_counts()
    return _summary(summary)


def _summary(summary: SyncSummary) -> dict:
    return {
        "fetched": summary.fetched,
        "new": summary.new,
        "skipped": summary.skipped,
        "found": summary.found,
    }
