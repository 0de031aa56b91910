"""The supervisors' wallboard: per queue and per extension, what is happening and how today went.

It owns the figures and their rules (docs/wallboard.md): the per-call record the polls keep
(`state`), what one poll's calls mean for it (`observations.observe`: waiting, answered,
abandoned, gaps in the polls, the day's roll-over), the figures read from it (`figures`: queue
rows and their total, the extension board, staleness), and the CDR's correction of today's
counts (`correction`, pure; `cdr_counts`, its one query). Everything but `cdr_counts` is pure:
no Redis, no database, the clock passed in. It may import `calls.live` (the live call model and
its state rules), `calls.pbx`, `calls.models` and `customers`; `calls.panel` may import it, and
nothing below it.

The wiring (`live_board`): the state lives in Redis next to the live snapshot, each call as
`call_json`, the rest as `WallboardState.counters_json()`. After each poll, good or failed, and
under the poll's lock::

    observed = observe(state, now, diff.calls.values(), pbx_ok=status is PollStatus.OK,
                       poll_interval=settings.TELSAM_POLL_INTERVAL)
    state = observed.state        # store observed.changed; observed.finished: the calls that left
    board = queue_figures(state, now, sl_seconds=20).to_json()   # and extension_board(...)

Because `calls.live` may not import this package, the poll hands its calls on to it rather than
calling it (the poll task in `calls.tasks` can run both). The CDR sync, after storing rows,
reads `cdr_queue_counts(state.day_start)` and the poll applies them with `with_cdr_counts` at
its next run (the state has one writer: the poll).
"""

from __future__ import annotations

from calls.wallboard.correction import QueueCounts, with_cdr_counts
from calls.wallboard.figures import (
    ExtensionBoard,
    ExtensionRow,
    QueueBoard,
    QueueFigures,
    Staleness,
    extension_board,
    queue_figures,
    staleness,
)
from calls.wallboard.observations import FinishedCall, Observed, observe
from calls.wallboard.state import WallboardState, WatchedCall

__all__ = [
    "ExtensionBoard",
    "ExtensionRow",
    "FinishedCall",
    "Observed",
    "QueueBoard",
    "QueueCounts",
    "QueueFigures",
    "Staleness",
    "WallboardState",
    "WatchedCall",
    "extension_board",
    "observe",
    "queue_figures",
    "staleness",
    "with_cdr_counts",
]
