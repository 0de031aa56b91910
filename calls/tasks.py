"""Celery tasks of the calls app: thin interfaces over service functions."""

from __future__ import annotations

from celery import shared_task

from calls.poller import poll_active_calls, poll_time_limit


@shared_task(
    name="calls.poll_active_calls",
    ignore_result=True,
    # A poll stuck on a dead socket is cut off so the next one can run.
    soft_time_limit=poll_time_limit(),
    time_limit=poll_time_limit() + 2,
)
def poll_active_calls_task() -> str:
    """Poll the PBX once (scheduled by beat every TELSAM_POLL_INTERVAL seconds)."""
    return poll_active_calls().status.value
