"""One poll of the PBX: fetch active calls, diff, match customers, store, broadcast.

This is the service behind the Celery beat task. Exactly one poll runs at a time across all workers
(a Redis lock with a TTL, so a killed worker cannot wedge it), and a PBX failure never loses the
last good calls: they are kept, `pbx.ok` turns false with a reason code (`pbx.reason`, which
browsers translate) and the technical detail (`pbx.error`), and the next good poll recovers by
itself.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.dispatch import Signal
from django.utils import timezone
from redis.exceptions import LockError

from calls.history.tracked_calls import note_live_calls, open_call_keys
from calls.live import payloads
from calls.live.diff import CallsDiff, diff_calls
from calls.live.matching import match_numbers
from calls.live.payloads import PbxPayload
from calls.live.snapshot import (
    POLL_LOCK_KEY,
    LiveState,
    count_poll,
    read_snapshot,
    redis_client,
    save_state,
)
from calls.pbx import PbxError, TelsamClient, client_from_settings
from telsam_panel.redact import redact

logger = logging.getLogger(__name__)


_REMATCH_EVERY_POLLS = 5

# Sent after every poll that stored a state, good or failed, while the poll still holds its lock
# (so receivers see the polls one at a time, in order), after the broadcast (so they cannot delay
# the panels): `state` (LiveState), `pbx_ok`, `now`. The wallboard's figures follow the polls
# this way (calls.wallboard), without the live path importing them. A failing receiver is logged
# and does not fail the poll.
polled = Signal()


class PollStatus(enum.StrEnum):
    OK = "ok"
    PBX_ERROR = "pbx_error"
    SKIPPED = "skipped"  # another poll holds the lock


@dataclass(frozen=True, slots=True)
class PollResult:
    status: PollStatus
    seq: int | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0


def poll_time_limit() -> float:
    """How long one poll may take: the client's deadline for the PBX's whole answer can overrun by
    one socket read (so twice the timeout), plus room for Redis and the database."""
    return 2 * settings.TELSAM_API_TIMEOUT + 5


def poll_active_calls(
    client: TelsamClient | None = None, now: datetime | None = None, *, rematch: bool = False
) -> PollResult:
    """Run one poll unless another is running; see the module docstring. `rematch`: match every
    unknown caller on the line again (customers' numbers have just changed)."""
    # The lock outlives the task's hard time limit a little, so it expires only after a dead poll.
    lock = redis_client().lock(POLL_LOCK_KEY, timeout=poll_time_limit() + 5, blocking=False)
    if not lock.acquire():
        logger.debug("Skipped a poll: the previous one is still running")
        count_poll(PollStatus.SKIPPED)
        return PollResult(PollStatus.SKIPPED)
    try:
        result = _poll(client or client_from_settings(), now or timezone.now(), rematch)
        count_poll(result.status)
        return result
    finally:
        try:
            lock.release()
        except LockError:
            logger.warning("The poll outlived its lock (%.0f s)", poll_time_limit() + 5)


def _poll(client: TelsamClient, now: datetime, rematch: bool) -> PollResult:
    previous = read_snapshot() or LiveState.fresh()
    fresh = not previous.pbx["ok"]  # a new live state, or the PBX failed since: reconcile
    try:
        fetched = client.active_calls()
    except PbxError as exc:
        error = redact(str(exc))
        if previous.pbx["ok"] or previous.pbx["error"] != error:
            logger.warning("PBX poll failed: %s", error)
        pbx: PbxPayload = {
            "ok": False,
            "last_ok_at": previous.pbx["last_ok_at"],
            "error": error,
            "reason": exc.reason.value,
        }
        diff = CallsDiff(calls=previous.calls)
        status = PollStatus.PBX_ERROR
    else:
        if not previous.pbx["ok"] and previous.pbx["error"]:
            logger.info("PBX poll recovered")
        diff = diff_calls(previous.calls, fetched, now)
        if fresh and diff.added:
            diff = diff.with_keys(_keys_they_had(diff))
        # New numbers every poll; also the unknown callers still on the line when customers'
        # numbers changed (calls.live.rematch), and now and then in any case.
        numbers = diff.numbers_to_match(
            all_unknown=rematch or previous.seq % _REMATCH_EVERY_POLLS == 0
        )
        if numbers:
            diff = diff.with_customers(match_numbers(numbers))
        pbx = {"ok": True, "last_ok_at": now.isoformat(), "error": None, "reason": None}
        status = PollStatus.OK

    state = LiveState(
        run=previous.run, seq=previous.seq + 1, at=now.isoformat(), calls=diff.calls, pbx=pbx
    )
    # Store before broadcasting: a browser connecting in between gets a snapshot at least as new
    # as the diff it will then receive (and ignores a diff whose seq it already has).
    texts = save_state(state)
    message = payloads.diff_text(
        state.run,
        state.seq,
        state.at,
        [texts[call.channel] for call in diff.added],
        [texts[call.channel] for call in diff.changed],
        diff.removed,
        state.pbx,
    )
    payloads.broadcast(message)
    # Only now, so the database can neither fail nor delay the broadcast: the calls that came
    # and went are noted for the history, which must look back to their start for their rows.
    if status is PollStatus.OK:
        note_live_calls(diff.calls, diff.added, diff.removed, fresh=fresh, now=now)
    for receiver, outcome in polled.send_robust(
        sender=None, state=state, pbx_ok=status is PollStatus.OK, now=now
    ):
        if isinstance(outcome, Exception):
            logger.warning(
                "After the poll, %s failed: %s",
                getattr(receiver, "__qualname__", receiver),
                redact(f"{type(outcome).__name__}: {outcome}"),
            )
    return PollResult(
        status,
        seq=state.seq,
        added=len(diff.added),
        changed=len(diff.changed),
        removed=len(diff.removed),
    )


def _keys_they_had(diff: CallsDiff) -> dict[str, str]:
    """The keys of the calls a fresh state sees anew that the history noted before (Redis lost
    the live state while they were on the line): a call keeps its key for its whole life. Without
    the database they get new ones; the history then keeps the key it noted."""
    try:
        return open_call_keys(call.channel for call in diff.added)
    except DatabaseError as exc:
        logger.warning(
            "Could not read the keys of %d calls seen anew: %s",
            len(diff.added),
            redact(f"{type(exc).__name__}: {exc}"),
        )
        return {}
