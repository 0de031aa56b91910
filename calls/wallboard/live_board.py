"""The wallboard follows the polls: after each one, its state is updated, its figures read, and
the board pushed to every wallboard socket (docs/wallboard.md, docs/websocket-protocol.md).

The poll sends `calls.live.poll.polled` while it still holds its lock, so this runs for one poll
at a time, in order, and after the panels' broadcast, so it cannot delay them. The state lives in
Redis (`STATE_KEY`); the process that stored it last keeps it in memory and reads it back only
when another worker process stored a newer one; a poll stores only the calls it changed. Two
messages go out per poll: the full board to `GROUP` (logged-in users with
`calls.view_wallboard`) and the masked one to `DISPLAY_GROUP` (display links: no customer names,
outside numbers masked). Both are spliced from each queue row's and tile's text, encoded when
it first appears or changes.

The CDR sync corrects today's counts: it stores the CDR's counts (`note_cdr_counts`) and the
next poll applies them, so the state keeps one writer.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
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
from calls.wallboard.figures import ExtensionRow, QueueFigures, extension_board, queue_figures
from calls.wallboard.observations import local_midnight, observe
from calls.wallboard.state import WallboardState, call_json
from calls.wallboard.thresholds import Alert, queue_alerts, worst_level

logger = logging.getLogger(__name__)

GROUP = "wallboard"
DISPLAY_GROUP = "wallboard-display"
# The state is stored in pieces, so that a poll writes only what it changed: the calls on the
# line in a hash (call key → `call_json`), the rest in one small text.
STATE_KEY = "telsam:wallboard:state"
CALLS_KEY = "telsam:wallboard:calls"
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
    pipeline = client.pipeline(transaction=True)
    pipeline.get(STATE_KEY)
    pipeline.hvals(CALLS_KEY)
    counters, calls = pipeline.execute()
    if counters is None:
        return None
    try:
        return WallboardState.from_json(counters, calls)
    except ValueError as exc:
        logger.warning("Starting the wallboard afresh: %s", exc)
        return None


def save_state(
    state: WallboardState,
    changed: Iterable[str] = (),
    finished: Iterable[str] = (),
    *,
    afresh: bool = False,
) -> None:
    """Store the state: the calls `changed` (or, `afresh`, every call: the stored ones are
    dropped), the `finished` calls' removal, and the rest. This process remembers the state."""
    global _remembered
    _remembered = None  # until stored: the caller may have changed the remembered state
    state_id = uuid.uuid4().hex
    pipeline = redis_client().pipeline(transaction=True)
    if afresh:
        pipeline.delete(CALLS_KEY)
        changed = state.calls
    elif finished := list(finished):
        pipeline.hdel(CALLS_KEY, *finished)
    if texts := {key: call_json(state.calls[key]) for key in changed}:
        pipeline.hset(CALLS_KEY, mapping=texts)
    pipeline.set(STATE_KEY, state.counters_json())
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
    afresh = board is None
    correction = _take_cdr_counts()
    if correction is not None and board is not None:
        day_start, counts = correction
        board = with_cdr_counts(board, counts, day_start=day_start, now=now)
    # In place: the state is this process's own (read from Redis, or remembered and forgotten
    # by `save_state` until stored again), so no copy of every call after every poll.
    forget_remembered_state()
    observed = observe(
        board,
        now,
        state.calls.values(),
        pbx_ok=pbx_ok,
        poll_interval=settings.TELSAM_POLL_INTERVAL,
        in_place=True,
    )
    board = observed.state
    save_state(board, observed.changed, (call.key for call in observed.finished), afresh=afresh)
    full, masked = board_texts(board, now, board_config(), _customers_by_key(state))
    pipeline = redis_client().pipeline(transaction=False)
    pipeline.set(MESSAGE_KEY, full)
    pipeline.set(DISPLAY_MESSAGE_KEY, masked)
    pipeline.execute()
    payloads.broadcast_each([(GROUP, full), (DISPLAY_GROUP, masked)])


def _customers_by_key(state: LiveState) -> dict[str, str]:
    return {call.key: call.customer.name for call in state.calls.values() if call.customer}


# The encoded queue rows and extension tiles of the last board, by their content: most are as
# the poll before left them, and their text is spliced in as it is (as the live snapshot does
# with its calls). Only this poll's are kept, so it holds one board's worth.
_queue_texts: dict[tuple, str] = {}
_tile_texts: dict[tuple, tuple[str, str]] = {}


def board_texts(
    state: WallboardState, now: datetime, config: BoardConfig, customers: Mapping[str, str]
) -> tuple[str, str]:
    """The `wallboard` message (docs/wallboard.md) as text, and its masked twin for display
    links: queues with their alerts, the total, the extension board."""
    global _queue_texts, _tile_texts
    queues = queue_figures(
        state,
        now,
        settings.TELSAM_SERVICE_LEVEL_SECONDS,
        poll_interval=settings.TELSAM_POLL_INTERVAL,
        queues=config.queues,
        sl_by_queue=config.sl_by_queue,
    )
    known_rows, rows = _queue_texts, {}
    for row in queues.queues:
        longest = (
            (now - row.longest_waiting_since).total_seconds() if row.longest_waiting_since else None
        )
        alerts = tuple(
            queue_alerts(
                config.thresholds.get(row.queue),
                waiting=row.waiting,
                longest_wait=longest,
                service_level=row.service_level,
            )
        )
        content = (
            row,
            config.names.get(row.queue, ""),
            config.sl_by_queue.get(row.queue, queues.sl_seconds),
            alerts,
        )
        text = known_rows.get(content)
        rows[content] = text if text is not None else payloads.encode(_queue_json(*content))
    total = _queue_json(queues.total, "", queues.sl_seconds, ())
    extensions = extension_board(
        state, now, poll_interval=settings.TELSAM_POLL_INTERVAL, known=config.extensions
    )
    known_tiles, tiles = _tile_texts, {}
    for row in extensions.extensions:
        content = (
            row,
            config.agents.get(row.extension, ""),
            customers.get(row.call_key) if row.call_key else None,
        )
        texts = known_tiles.get(content)
        tiles[content] = texts if texts is not None else _tile_texts_of(*content)
    _queue_texts, _tile_texts = rows, tiles
    head = payloads.encode(
        {
            "type": "wallboard",
            "at": queues.at.isoformat(),
            "sl_seconds": queues.sl_seconds,
            "short_abandon_seconds": queues.short_abandon_seconds,
        }
    )
    queue_part = (
        f'{head[:-1]},"queues":[{",".join(rows.values())}],"total":{payloads.encode(total)},'
        f"{payloads.encode(queues.staleness.to_json())[1:-1]}"
    )
    return (
        f'{queue_part},"extensions":[{",".join(full for full, _ in tiles.values())}]}}',
        f'{queue_part},"extensions":[{",".join(masked for _, masked in tiles.values())}]}}',
    )


def _queue_json(row: QueueFigures, name: str, sl_seconds: int, alerts: tuple[Alert, ...]) -> dict:
    return {
        **row.to_json(),
        "name": name,
        "sl_seconds": sl_seconds,
        "alerts": [
            {"figure": a.figure.value, "level": a.level.value, "threshold": a.threshold}
            for a in alerts
        ],
        "level": worst_level(alerts).value,
    }


def _tile_texts_of(row: ExtensionRow, name: str, customer: str | None) -> tuple[str, str]:
    """An extension's tile as text, and as a display link shows it: without who is calling
    (outside numbers masked to their last two digits, no customer names, no raw numbers)."""
    tile = {**row.to_json(), "name": name, "customer": customer}
    shown = {**tile, "customer": None, "party": None, "call_key": None}
    if tile["party_display"]:
        shown["party_display"] = mask_number(tile["party_display"])
    return payloads.encode(tile), payloads.encode(shown)
