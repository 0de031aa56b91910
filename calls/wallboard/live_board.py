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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

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
T = TypeVar("T")

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
    texts: Mapping[str, str] | None = None,
) -> None:
    """Store the state: the calls `changed` (or, `afresh`, every call: the stored ones are
    dropped), the `finished` calls' removal, and the rest; and `texts` by key (the boards), in
    the same trip. This process remembers the state."""
    global _remembered
    _remembered = None  # until stored: the caller may have changed the remembered state
    state_id = uuid.uuid4().hex
    pipeline = redis_client().pipeline(transaction=True)
    if afresh:
        pipeline.delete(CALLS_KEY)
        changed = state.calls
    elif finished := list(finished):
        pipeline.hdel(CALLS_KEY, *finished)
    if calls := {key: call_json(state.calls[key]) for key in changed}:
        pipeline.hset(CALLS_KEY, mapping=calls)
    pipeline.set(STATE_KEY, state.counters_json())
    pipeline.set(STATE_ID_KEY, state_id)
    if texts:
        pipeline.mset(texts)
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
    """One poll's step of the wallboard: observe, read the figures, store, push both boards."""
    board = load_state()
    afresh = board is None
    correction = _take_cdr_counts()
    if correction is not None and board is not None:
        day_start, counts = correction
        board = with_cdr_counts(board, counts, day_start=day_start, now=now)
    # In place, so no copy of every call after every poll: the state is this process's own
    # (read from Redis, or remembered and forgotten until stored again).
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
    full, masked = board_texts(
        board, now, board_config(), _customers_by_key(state), touched=observed.extensions
    )
    save_state(
        board,
        observed.changed,
        (call.key for call in observed.finished),
        afresh=afresh,
        texts={MESSAGE_KEY: full, DISPLAY_MESSAGE_KEY: masked},
    )
    payloads.broadcast_each([(GROUP, full), (DISPLAY_GROUP, masked)])


def _customers_by_key(state: LiveState) -> dict[str, str]:
    return {call.key: call.customer.name for call in state.calls.values() if call.customer}


# The last board's queue rows and extension tiles, each with what it showed and its text: most
# are as the poll before left them, and their text is spliced in as it is (as the live snapshot
# does with its calls). By queue and by extension, so it holds one board's worth.
_queue_texts: dict[str | None, tuple[tuple, str]] = {}
_tile_texts: dict[str, tuple[tuple, tuple[str, str]]] = {}
# The extension rows of the last board and the state they were read from: while the next poll
# works on that same state (in place), the extensions it did not touch keep their rows.
_last_rows: tuple[WallboardState, dict[str, ExtensionRow]] | None = None


def board_texts(
    state: WallboardState,
    now: datetime,
    config: BoardConfig,
    customers: Mapping[str, str],
    touched: set[str] | None = None,
) -> tuple[str, str]:
    """The `wallboard` message (docs/wallboard.md) as text, and its masked twin for display
    links: queues with their alerts, the total, the extension board. `touched`: the extensions
    this poll changed, when `state` is the one the last board was read from (None: any)."""
    global _queue_texts, _tile_texts, _last_rows
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
        rows[row.queue] = _reused(known_rows.get(row.queue), content, _queue_text)
    total = _queue_json(queues.total, "", queues.sl_seconds, ())
    last = _last_rows
    unchanged = None
    if last is not None and last[0] is state and touched is not None:
        unchanged = {name: row for name, row in last[1].items() if name not in touched}
    extensions = extension_board(
        state,
        now,
        poll_interval=settings.TELSAM_POLL_INTERVAL,
        known=config.extensions,
        unchanged=unchanged,
    )
    _last_rows = (state, {row.extension: row for row in extensions.extensions})
    known_tiles, tiles = _tile_texts, {}
    for row in extensions.extensions:
        content = (
            row,
            config.agents.get(row.extension, ""),
            customers.get(row.call_key) if row.call_key else None,
        )
        tiles[row.extension] = _reused(known_tiles.get(row.extension), content, _tile_texts_of)
    _queue_texts, _tile_texts = rows, tiles
    head = payloads.encode(
        {
            "type": "wallboard",
            "at": queues.at.isoformat(),
            "sl_seconds": queues.sl_seconds,
            "short_abandon_seconds": queues.short_abandon_seconds,
        }
    )
    queue_texts = ",".join(text for _, text in rows.values())
    queue_part = (
        f'{head[:-1]},"queues":[{queue_texts}],"total":{payloads.encode(total)},'
        f"{payloads.encode(queues.staleness.to_json())[1:-1]}"
    )
    return (
        f'{queue_part},"extensions":[{",".join(t[0] for _, t in tiles.values())}]}}',
        f'{queue_part},"extensions":[{",".join(t[1] for _, t in tiles.values())}]}}',
    )


def _reused(known: tuple[tuple, T] | None, content: tuple, encode: Callable[..., T]) -> tuple:
    """`(content, text)`: the text known for the same content (compared field by field, at once
    when the very same row is shown again), or encoded now."""
    if known is not None and known[0] == content:
        return known
    return content, encode(*content)


def _queue_text(row: QueueFigures, name: str, sl_seconds: int, alerts: tuple[Alert, ...]) -> str:
    return payloads.encode(_queue_json(row, name, sl_seconds, alerts))


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
