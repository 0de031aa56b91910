"""Who may write or change a call's work, and when a wrap-up code is required."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from calls.access import SEE_CALLS
from calls.models import CallWork, TrackedCall, WrapUpQueue

WRITE = "calls.add_callwork"
CHANGE_ANY = "calls.change_any_callwork"
# Agents and supervisors write call work; supervisors change anyone's, at any time.
MAY_WRITE = (SEE_CALLS, WRITE)


class WorkRefused(Exception):
    """A call's work (its note, code or a follow-up) cannot be saved or changed as asked;
    `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def edit_window() -> timedelta:
    """How long after the call ended an agent may still change their own work on it."""
    return timedelta(minutes=settings.TELSAM_NOTE_EDIT_MINUTES)


def may_write(user, call: TrackedCall, work: CallWork | None, now: datetime) -> bool:
    """Whether `user` may write this call's work: anyone with the role while nobody has; then
    its author, while the call lasts and for `edit_window()` after it ended; supervisors always."""
    if not user.has_perms(MAY_WRITE):
        return False
    if work is None or user.has_perm(CHANGE_ANY):
        return True
    ended = call.ended_at
    return work.author_id == user.pk and (ended is None or now - ended <= edit_window())


def code_required(call: TrackedCall) -> bool:
    """Whether the call's queue requires a wrap-up code before its wrap-up is done."""
    return (
        bool(call.queue)
        and WrapUpQueue.objects.filter(queue=call.queue, code_required=True).exists()
    )
