"""The wallboard follows the polls: after each one, its state is updated, its figures read, and
the board pushed to every wallboard socket (docs/wallboard.md, docs/websocket-protocol.md).

The poll sends `calls.live.poll.polled` while it still holds its lock, so this runs for one poll
at a time, in order, and after the panels' broadcast, so it cannot delay them. The state lives in
Redis (`STATE_KEY`); the process that stored it last keeps it in memory and reads it back only
when another worker process stored a newer one. Two messages go out per poll, each encoded once:
the full board to `GROUP` (logged-in users with `calls.view_wallboard`) and the masked one to
`DISPLAY_GROUP` (display links: no customer names, outside numbers masked).

The CDR sync corrects today's counts: it stores the CDR's counts (`note_cdr_counts`) and the
next poll applies them, so the state keeps one writer.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone

from calls.live import payloads
from calls.live.poll import polled
from calls.live.snapshot import LiveState, redis_client
from calls.wallboard.board_config import BoardConfig, board_config
from calls.wallboard.cdr_counts import cdr_queue_counts
from calls.wallboard.correction import QueueCounts, with_cdr_counts
from calls.wallboard.display_links import mask_number
from calls.wallboard.figures import extension_board, queue_figures
from calls.wallboard.observations import local_midnight, observe
from calls.wallboard.state import WallboardState
from calls.wallboard.thresholds import queue_alerts, worst_level

logger = logging.getLogger(__name__)

GROUP = "wallboard"
DISPLAY_GROUP = "wallboard-display"
STATE_KEY = "telsam:wallboard:state"
STATE_ID_KEY = "telsam:wallboard:state-id"
MESSAGE_KEY = "telsam:wallboard:message"
DISPLAY_MESSAGE_KEY = "telsam:wallboard:display-message"
CDR_COUNTS_KEY = "telsam:wallboard:cdr-counts"


@dataclass(frozen=True, slots=True)
class _Remembered:
    state_id: str
    state: WallboardState


_remembered: _Remembered | None = None


def load_state() -> WallboardState | None:
    """The state the last poll stored (None before the first, or after a version change)."""
    client = redis_client()
    stored_id = client.get(STATE_ID_KEY)
    remembered = _remembered
    if remembered is not None and stored_id == remembered.state_id.encode():
        return remembered.state
    raw = client.get(STATE_KEY)
    if raw is None:
        return None
    try:
        return WallboardState.from_json(raw)
    except ValueError as exc:
        logger.warning("Starting the wallboard afresh: %s", exc)
        return None


def save_state(state: WallboardState) -> None:
    global _remembered
    state_id = uuid.uuid4().hex
    pipeline = redis_client().pipeline(transaction=True)
    pipeline.set(STATE_KEY, state.to_json())
    pipeline.set(STATE_ID_KEY, state_id)
    pipeline.execute()
    _remembered = _Remembered(state_id, state)


def forget_remembered_state() -> None:
    """Read the next state from Redis, as another worker process would (tests, benchmarks)."""
    global _remembered
    _remembered = None


def note_cdr_counts(now: datetime | None = None) -> None:
    """After a CDR sync: today's counts per queue in the CDR, for the next poll to apply."""
    day_start = local_midnight(now or timezone.now())
    counts = cdr_queue_counts(day_start)
    text = json.dumps(
        {
            "day_start": day_start.isoformat(),
            "counts": {q: [c.offered, c.answered, c.abandoned] for q, c in counts.items()},
        }
    )
    redis_client().set(CDR_COUNTS_KEY, text)


def _take_cdr_counts() -> tuple[datetime, dict[str, QueueCounts]] | None:
    raw = redis_client().getdel(CDR_COUNTS_KEY)
    if raw is None:
        return None
    data = json.loads(raw)
    counts = {q: QueueCounts(*numbers) for q, numbers in data["counts"].items()}
    return datetime.fromisoformat(data["day_start"]), counts


@receiver(polled, dispatch_uid="calls.wallboard.live_board")
def follow_poll(sender, state: LiveState, pbx_ok: bool, now: datetime, **kwargs) -> None:
    """One poll's step of the wallboard: observe, store, read the figures, push both boards."""
    board = load_state()
    correction = _take_cdr_counts()
    if correction is not None and board is not None:
        day_start, counts = correction
        board = with_cdr_counts(board, counts, day_start=day_start, now=now)
    interval = settings.TELSAM_POLL_INTERVAL
    board = observe(board, now, state.calls.values(), pbx_ok=pbx_ok, poll_interval=interval).state
    save_state(board)
    message = board_message(board, now, board_config(), _customers_by_key(state))
    full, masked = payloads.encode(message), payloads.encode(masked_message(message))
    pipeline = redis_client().pipeline(transaction=False)
    pipeline.set(MESSAGE_KEY, full)
    pipeline.set(DISPLAY_MESSAGE_KEY, masked)
    pipeline.execute()
    payloads.broadcast_each([(GROUP, full), (DISPLAY_GROUP, masked)])


def _customers_by_key(state: LiveState) -> dict[str, str]:
    return {call.key: call.customer.name for call in state.calls.values() if call.customer}


def board_message(
    state: WallboardState, now: datetime, config: BoardConfig, customers: Mapping[str, str]
) -> dict:
    """The `wallboard` message (docs/websocket-protocol.md): queues with their alerts, the
    total, the extension board."""
    queues = queue_figures(
        state,
        now,
        settings.TELSAM_SERVICE_LEVEL_SECONDS,
        poll_interval=settings.TELSAM_POLL_INTERVAL,
        queues=config.queues,
        sl_by_queue=config.sl_by_queue,
    )
    rows = []
    for row in queues.queues:
        figures = row.to_json()
        longest = (
            (now - row.longest_waiting_since).total_seconds() if row.longest_waiting_since else None
        )
        alerts = queue_alerts(
            config.thresholds.get(row.queue),
            waiting=row.waiting,
            longest_wait=longest,
            service_level=row.service_level,
        )
        figures.update(
            name=config.names.get(row.queue, ""),
            sl_seconds=config.sl_by_queue.get(row.queue, queues.sl_seconds),
            alerts=[
                {"figure": a.figure.value, "level": a.level.value, "threshold": a.threshold}
                for a in alerts
            ],
            level=worst_level(alerts).value,
        )
        rows.append(figures)
    total = queues.total.to_json()
    total.update(name="", sl_seconds=queues.sl_seconds, alerts=[], level="ok")
    extensions = extension_board(
        state, now, poll_interval=settings.TELSAM_POLL_INTERVAL, known=config.extensions
    )
    tiles = []
    for row in extensions.extensions:
        tile = row.to_json()
        tile["name"] = config.agents.get(row.extension, "")
        tile["customer"] = customers.get(row.call_key) if row.call_key else None
        tiles.append(tile)
    return {
        "type": "wallboard",
        **queues.to_json(),
        "queues": rows,
        "total": total,
        "extensions": tiles,
    }


def masked_message(message: dict) -> dict:
    """What a display link shows: the same board without who is calling (outside numbers
    masked to their last two digits, no customer names, no raw numbers)."""
    tiles = []
    for tile in message["extensions"]:
        shown = {**tile, "customer": None, "party": None, "call_key": None}
        if tile["party_display"]:
            shown["party_display"] = mask_number(tile["party_display"])
        tiles.append(shown)
    return {**message, "extensions": tiles}
