"""Today's queue counts corrected by the CDR: pure, the query is `calls.wallboard.cdr_counts`.

The polls miss calls shorter than a poll interval and cannot tell how a call that left during an
outage ended; the CDR has every call, once its row is written (when the call ends). So a
correction replaces a queue's counts with the CDR's for the day, and the poll counts on from
there: the calls answered from the queue and still on the line (their rows are not written yet)
are counted again at once, everything else as it comes. The waits, and so the service level,
stay the polls' measure: the CDR records no wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from calls.wallboard.state import WallboardState


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """A queue's calls of the day in the CDR: every row, the answered, and the others."""

    offered: int
    answered: int
    abandoned: int


def with_cdr_counts(
    state: WallboardState,
    counts: Mapping[str, QueueCounts],
    *,
    day_start: datetime,
    now: datetime,
) -> WallboardState:
    """The state with these queues' counts replaced by the CDR's of the day that starts at
    `day_start`; a correction for another day (read before midnight, applied after) changes
    nothing. Queues not in `counts` keep the poll's counts. `state` is left as it was."""
    if state.day_start != day_start:
        return state
    state = state.copy()
    for queue, cdr in counts.items():
        day = state.queue_day(queue)
        day.cdr_offered, day.cdr_answered, day.cdr_abandoned = (
            cdr.offered,
            cdr.answered,
            cdr.abandoned,
        )
        # Answered today and still talking: the CDR will have them only when they end.
        on_the_line = sum(
            1
            for call in state.calls.values()
            if call.queue == queue
            and call.answered_at is not None
            and call.answered_at >= day_start
        )
        day.answered, day.abandoned, day.unresolved = on_the_line, 0, 0
        day.corrected_at = now
    return state
