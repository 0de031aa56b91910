"""Ending a live call from the panel: permission, existence, the PBX, the audit trail."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction

from calls.live.poll_requests import request_poll
from calls.live.snapshot import read_snapshot
from calls.models import HangupAttempt, clip_to_column
from calls.pbx import (
    PbxError,
    PbxRejected,
    TelsamClient,
    client_from_settings,
    is_valid_channel,
    printable_channel,
)
from telsam_panel.redact import redact

logger = logging.getLogger(__name__)

HANGUP_PERMISSION = "calls.hangup_call"


def hangup_call(
    user: AbstractBaseUser, channel: str, client: TelsamClient | None = None
) -> HangupAttempt:
    """Ask the PBX to end `channel` on behalf of `user`, and record the attempt whatever happens.

    Only channels in the live snapshot are sent to the PBX, so a forged channel never reaches it;
    one that cannot be a channel (`is_valid_channel`, the rule the PBX's answers are read by) is
    not even looked up, and is recorded with its control characters shown as `?` (PostgreSQL
    refuses NUL in text, logs split on newlines). A success triggers an immediate poll so that
    every panel sees the call leave at once.

    The audit row is written `pending` BEFORE the PBX is asked, then updated to the outcome: if
    the database refuses the first write, the `DatabaseError` is raised and the call goes on;
    if it refuses the update, the call has ended with its record (still `pending`) in place.
    """
    attempt = HangupAttempt(
        user=user, username=user.get_username(), channel=printable_channel(channel)
    )
    state = read_snapshot() if is_valid_channel(channel) else None
    call = state.calls.get(channel) if state else None
    if call is not None:
        # Cut as the call history cuts the same call's numbers.
        attempt.src = clip_to_column(HangupAttempt, "src", call.src)
        attempt.dst = clip_to_column(HangupAttempt, "dst", call.dst)

    if not user.has_perm(HANGUP_PERMISSION):
        attempt.result = HangupAttempt.Result.FORBIDDEN
    elif call is None:
        attempt.result = HangupAttempt.Result.NOT_FOUND
    else:
        attempt.result = HangupAttempt.Result.PENDING
        with transaction.atomic():  # a refused write must not break the caller's transaction
            attempt.save()
        client = client or client_from_settings()
        try:
            answer = client.hangup(channel)
        except PbxRejected as exc:
            attempt.result = HangupAttempt.Result.PBX_ERROR
            attempt.pbx_answer = _audit_text(exc)
        except PbxError as exc:
            # The hang-up answer is undocumented; an answer we cannot read may still mean the call
            # ended. The PBX's list of active calls decides.
            ended = _has_ended(client, channel)
            attempt.result = HangupAttempt.Result.OK if ended else HangupAttempt.Result.PBX_ERROR
            attempt.pbx_answer = _audit_text(exc)
        else:
            attempt.result = HangupAttempt.Result.OK
            attempt.pbx_answer = answer.raw
    _save_outcome(attempt)
    logger.info("Hang-up by %s of %s: %s", attempt.username, attempt.channel[:80], attempt.result)
    if attempt.result == HangupAttempt.Result.OK:
        transaction.on_commit(request_poll)
    return attempt


def _save_outcome(attempt: HangupAttempt) -> None:
    """Store the attempt's outcome. Once the PBX has been asked, a database error must not hide
    what it did from the person who asked: it is logged, and the row stays `pending`."""
    if attempt.pk is None:
        attempt.save()  # refused or not found: the PBX was not asked
        return
    try:
        with transaction.atomic():
            attempt.save(update_fields=["result", "pbx_answer"])
    except DatabaseError as exc:
        logger.error(
            "Hang-up of %s by %s was %s, but its audit row stays pending: %s",
            attempt.channel[:80],
            attempt.username,
            attempt.result,
            redact(f"{type(exc).__name__}: {exc}"),
        )


def _has_ended(client: TelsamClient, channel: str) -> bool:
    try:
        return all(call.channel != channel for call in client.active_calls())
    except PbxError:
        return False


def _audit_text(exc: PbxError) -> str:
    return redact(f"{exc}\n{exc.raw}" if exc.raw else str(exc))
