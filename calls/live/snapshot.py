"""The live snapshot in Redis: what the last poll saw, shared by the poller and every web server.

It is stored as the encoded `snapshot` message itself, so a connecting browser is served one Redis
GET with no re-serialisation, and the poller reads the same text back to diff against.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from calls.live.diff import LiveCall
from calls.live.payloads import PbxPayload, encode, snapshot_message
from telsam_panel.redis_connection import redis_client

SNAPSHOT_KEY = "telsam:live:snapshot"
POLL_LOCK_KEY = "telsam:live:poll-lock"
# Running totals per poll outcome ("ok", "pbx_error", "skipped"), for `/healthz`, `doctor` and
# the soak report. Cumulative since Redis last started.
POLL_COUNTERS_KEY = "telsam:live:poll-counters"


@dataclass(frozen=True, slots=True)
class LiveState:
    run: str  # changes whenever the state starts afresh: clients must resynchronise
    seq: int  # +1 per poll
    at: str | None = None  # when the poll that made this state ran (ISO 8601)
    calls: dict[str, LiveCall] = field(default_factory=dict)
    pbx: PbxPayload = field(
        default_factory=lambda: {"ok": False, "last_ok_at": None, "error": None, "reason": None}
    )

    @classmethod
    def fresh(cls) -> LiveState:
        return cls(run=uuid.uuid4().hex[:12], seq=0)


def load_snapshot_text() -> str | None:
    raw = redis_client().get(SNAPSHOT_KEY)
    return raw.decode() if raw is not None else None


def load_state() -> LiveState | None:
    text = load_snapshot_text()
    if text is None:
        return None
    data = json.loads(text)
    calls = (LiveCall.from_payload(c) for c in data["calls"])
    return LiveState(
        run=data["run"],
        seq=data["seq"],
        at=data.get("at"),
        calls={c.channel: c for c in calls},
        pbx=data["pbx"],
    )


def save_state(state: LiveState) -> str:
    """Store the state as an encoded snapshot message and return that text."""
    text = encode(snapshot_message(state.run, state.seq, state.at, state.calls.values(), state.pbx))
    redis_client().set(SNAPSHOT_KEY, text)
    return text


def count_poll(status: str) -> None:
    redis_client().hincrby(POLL_COUNTERS_KEY, status, 1)


def poll_counters() -> dict[str, int]:
    """Polls by outcome since Redis started, e.g. {"ok": 120, "pbx_error": 3}."""
    raw = redis_client().hgetall(POLL_COUNTERS_KEY)
    return {key.decode(): int(value) for key, value in raw.items()}
