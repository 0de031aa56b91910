"""The live snapshot in Redis: what the last poll saw, shared by the poller and every web server.

It is stored as the encoded `snapshot` message itself, so a connecting browser is served one Redis
GET with no re-serialisation (`load_snapshot_text`). Everything else reads it through
`read_snapshot`, as a typed `LiveState`.

A poll must cost little more than reading the PBX's answer, however many calls are on the line.
So the stored text is spliced from each call's encoded `Call` object (`payloads.snapshot_text`),
and this process remembers the last state it stored or read together with those texts. The next
read asks Redis only for the text's first bytes and its length: if they are those of the state
remembered, nothing is decoded; and a call the poll left as it was is not encoded again. When
another process wrote the snapshot since (a poll run by another worker), the text is decoded, and
the calls' texts are cut from it rather than encoded anew.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import redis

from calls.live import payloads
from calls.live.diff import LiveCall
from calls.live.payloads import PbxPayload, SnapshotMessage
from telsam_panel.redis_connection import redis_client

SNAPSHOT_KEY = "telsam:live:snapshot"
POLL_LOCK_KEY = "telsam:live:poll-lock"
# Running totals per poll outcome ("ok", "pbx_error", "skipped"), for `/healthz`, `doctor` and
# the soak report. Cumulative since Redis last started.
POLL_COUNTERS_KEY = "telsam:live:poll-counters"
# How much of the stored text, with its length, tells one stored state from another: it holds
# the run, the seq and the poll's time, which no two polls share.
_HEAD_BYTES = 256


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

    def message(self) -> SnapshotMessage:
        """The state as the `snapshot` message a connecting browser receives."""
        return payloads.snapshot_message(self.run, self.seq, self.at, self.calls.values(), self.pbx)


@dataclass(frozen=True, slots=True)
class _Remembered:
    """The state last stored or read by this process, and what identifies its stored text."""

    head: bytes
    length: int
    state: LiveState
    # Each call's encoded text, for as long as the state holds that very `LiveCall` object.
    texts: dict[str, tuple[LiveCall, str]]


_remembered: _Remembered | None = None


def load_snapshot_text(client: redis.Redis | None = None) -> str | None:
    """The stored snapshot message as text, to forward to a browser as it is."""
    return load_message_text(SNAPSHOT_KEY, client)


def load_message_text(key: str, client: redis.Redis | None = None) -> str | None:
    """A message stored under `key` as text (the snapshot's, the wallboard's), or None."""
    raw = (client or redis_client()).get(key)
    return raw.decode() if raw is not None else None


def read_snapshot(client: redis.Redis | None = None) -> LiveState | None:
    """The state the last poll stored, or None before the first poll (or after Redis lost it).

    `client` reads another Redis than the panel's own (a test's or a benchmark's stack).
    """
    global _remembered
    client = client or redis_client()
    pipeline = client.pipeline(transaction=False)
    pipeline.getrange(SNAPSHOT_KEY, 0, _HEAD_BYTES - 1)
    pipeline.strlen(SNAPSHOT_KEY)
    head, length = pipeline.execute()
    if not length:
        return None
    remembered = _remembered
    if remembered is not None and (remembered.head, remembered.length) == (head, length):
        return remembered.state
    raw = client.get(SNAPSHOT_KEY)
    if raw is None:  # deleted in between
        return None
    state, texts = _decode(raw.decode())
    _remembered = _Remembered(raw[:_HEAD_BYTES], len(raw), state, texts)
    return state


def save_state(state: LiveState) -> dict[str, str]:
    """Store the state as an encoded snapshot message; returns each call's encoded text, by
    channel (the diff announcing the poll's new and changed calls carries the same texts)."""
    global _remembered
    known = _remembered.texts if _remembered is not None else {}
    texts: dict[str, tuple[LiveCall, str]] = {}
    for channel, call in state.calls.items():
        entry = known.get(channel)
        if entry is None or entry[0] is not call:
            entry = (call, payloads.encode_call(call))
        texts[channel] = entry
    text = payloads.snapshot_text(
        state.run, state.seq, state.at, (text for _, text in texts.values()), state.pbx
    )
    raw = text.encode()
    redis_client().set(SNAPSHOT_KEY, raw)
    _remembered = _Remembered(raw[:_HEAD_BYTES], len(raw), state, texts)
    return {channel: text for channel, (_, text) in texts.items()}


def forget_remembered_state() -> None:
    """Read the next state from Redis in full, as a process that did not store the last one
    does (for the benchmarks and tests of that path)."""
    global _remembered
    _remembered = None


def _decode(text: str) -> tuple[LiveState, dict[str, tuple[LiveCall, str]]]:
    """A stored snapshot message → its state, and each call's text as it was stored.

    A call stored without a field this version sends (by an older version) gets no text, nor do
    the calls of a snapshot written with other JSON spacing (a restored copy): they are encoded
    anew.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the stored snapshot is not a JSON object")
    stored = data.get("calls") or []
    pieces = _call_texts(text, len(stored))
    calls: dict[str, LiveCall] = {}
    texts: dict[str, tuple[LiveCall, str]] = {}
    for index, payload in enumerate(stored):
        call = payloads.live_call(payload)
        calls[call.channel] = call
        if pieces is not None and payload.keys() == payloads.CALL_FIELDS:
            texts[call.channel] = (call, pieces[index])
    state = LiveState(
        run=data["run"],
        seq=data["seq"],
        at=data.get("at"),
        calls=calls,
        pbx=payloads.pbx_payload(data.get("pbx") or {}),
    )
    return state, texts


# Where, in the text `payloads.snapshot_text` writes, the calls begin and end, and one call
# ends and the next begins. A `"` inside a JSON string is escaped, so none of these can occur
# inside a value: only the fields before `calls` (scalars) precede the first, only `pbx` (an
# object of scalars) follows the last, and every call begins with its `channel`.
_CALLS_START = ',"calls":['
_CALLS_END = '],"pbx":{'
_BETWEEN_CALLS = '},{"channel":'


def _call_texts(text: str, count: int) -> list[str] | None:
    """Each call's text cut from a snapshot in the compact form we write, or None when the text
    is in another form (its pieces do not add up to `count` calls)."""
    start = text.find(_CALLS_START)
    end = text.rfind(_CALLS_END)
    if start < 0 or end < start:
        return None
    inner = text[start + len(_CALLS_START) : end]
    if not inner:
        return [] if count == 0 else None
    parts = inner.split(_BETWEEN_CALLS)
    if len(parts) != count:
        return None
    if count == 1:
        return parts
    head, *middle, last = parts
    return [head + "}", *(f'{{"channel":{part}}}' for part in middle), '{"channel":' + last]


def count_poll(status: str) -> None:
    redis_client().hincrby(POLL_COUNTERS_KEY, status, 1)


def poll_counters() -> dict[str, int]:
    """Polls by outcome since Redis started, e.g. {"ok": 120, "pbx_error": 3}."""
    raw = redis_client().hgetall(POLL_COUNTERS_KEY)
    return {key.decode(): int(value) for key, value in raw.items()}
