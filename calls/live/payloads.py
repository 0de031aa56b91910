"""Every websocket payload is built and sent here (protocol: docs/websocket-protocol.md).

A call's `Call` object is encoded to JSON text once, when it first appears or changes: the diff
that announces it and every snapshot after it splice that same text (`diff_text`,
`snapshot_text`). The message text travels through the channel layer and each consumer only
forwards it, so a thousand sockets cost one encoding, and a poll in which nothing changed encodes
no call at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from calls.live.diff import CustomerMatch, LiveCall, new_call_key
from calls.pbx import Direction

GROUP = "live-calls"
# Channel-layer event types; Channels calls the consumer method of the same name (dot → _).
PUSH_EVENT = "calls.push"

DirectionCode = Literal["in", "out", "internal"]
_DIRECTION_CODES: dict[Direction, DirectionCode] = {
    Direction.IN: "in",
    Direction.OUT: "out",
    Direction.INTERNAL: "internal",
}


class CustomerPayload(TypedDict):
    id: int
    name: str
    company: str
    url: str
    more: int


class CallPayload(TypedDict):
    channel: str  # first: a stored snapshot is cut into calls at `{"channel":` (live.snapshot)
    key: str
    src: str
    src_display: str
    dst: str
    dst_display: str
    calltype: str
    callinfo: str
    ringing: bool
    queue: str | None
    direction: DirectionCode
    started_at: str
    customer: CustomerPayload | None


CALL_FIELDS = frozenset(CallPayload.__annotations__)


# Why the PBX is not usable (`pbx.reason`): the `PbxReason` codes of `calls.pbx`, and "waiting"
# before the first poll. Browsers translate the code; `error` is the technical detail. Spelled
# out for type checkers; tests/calls/pbx/test_reason_codes.py keeps it equal to `PbxReason`.
PbxReasonCode = Literal[
    "unreachable", "timeout", "http_error", "bad_response", "rejected", "not_configured", "waiting"
]


class PbxPayload(TypedDict):
    ok: bool
    last_ok_at: str | None
    error: str | None
    reason: PbxReasonCode | None


class SnapshotMessage(TypedDict):
    type: Literal["snapshot"]
    run: str
    seq: int
    at: str | None  # server time of the poll: browsers tick durations on the server's clock
    calls: list[CallPayload]
    pbx: PbxPayload


class DiffMessage(TypedDict):
    type: Literal["diff"]
    run: str
    seq: int
    at: str
    added: list[CallPayload]
    changed: list[CallPayload]
    removed: list[str]
    pbx: PbxPayload


# --- the `Call` object ---------------------------------------------------------------------------


def call_payload(call: LiveCall) -> CallPayload:
    """The `Call` object of a live call."""
    customer = call.customer
    return {
        "channel": call.channel,
        "key": call.key,
        "src": call.src,
        "src_display": call.src_display,
        "dst": call.dst,
        "dst_display": call.dst_display,
        "calltype": call.calltype,
        "callinfo": call.callinfo,
        "ringing": call.ringing,
        "queue": call.queue,
        "direction": _DIRECTION_CODES[call.direction],
        "started_at": call.started_at.isoformat(),
        "customer": None
        if customer is None
        else {
            "id": customer.id,
            "name": customer.name,
            "company": customer.company,
            "url": customer.url,
            "more": customer.more,
        },
    }


def live_call(payload: Mapping[str, Any]) -> LiveCall:
    """A stored `Call` object read back (`ringing` follows from `callinfo`, so it is not read).
    A call stored by a version without keys gets one, which the next poll stores."""
    customer = payload.get("customer")
    return LiveCall(
        channel=payload["channel"],
        key=payload.get("key") or new_call_key(),
        src=payload["src"],
        dst=payload["dst"],
        calltype=payload["calltype"],
        callinfo=payload["callinfo"],
        queue=payload.get("queue"),
        direction=Direction(payload["direction"]),
        started_at=datetime.fromisoformat(payload["started_at"]),
        src_display=payload["src_display"],
        dst_display=payload["dst_display"],
        customer=CustomerMatch(**customer) if customer else None,
    )


def encode_call(call: LiveCall) -> str:
    """A call's `Call` object as the text every message that carries it splices in."""
    return encode(call_payload(call))


# --- messages ------------------------------------------------------------------------------------


def pbx_payload(pbx: Mapping[str, Any]) -> PbxPayload:
    """The `Pbx` object with every key present, whoever built it (an older stored snapshot has no
    `reason`)."""
    return {
        "ok": bool(pbx.get("ok")),
        "last_ok_at": pbx.get("last_ok_at"),
        "error": pbx.get("error"),
        "reason": pbx.get("reason"),
    }


def snapshot_message(
    run: str, seq: int, at: str | None, calls: Iterable[LiveCall], pbx: Mapping[str, Any]
) -> SnapshotMessage:
    return {
        "type": "snapshot",
        "run": run,
        "seq": seq,
        "at": at,
        "calls": [call_payload(call) for call in calls],
        "pbx": pbx_payload(pbx),
    }


def diff_message(
    run: str,
    seq: int,
    at: str,
    added: Iterable[LiveCall],
    changed: Iterable[LiveCall],
    removed: Iterable[str],
    pbx: Mapping[str, Any],
) -> DiffMessage:
    return {
        "type": "diff",
        "run": run,
        "seq": seq,
        "at": at,
        "added": [call_payload(call) for call in added],
        "changed": [call_payload(call) for call in changed],
        "removed": list(removed),
        "pbx": pbx_payload(pbx),
    }


def snapshot_text(
    run: str, seq: int, at: str | None, calls: Iterable[str], pbx: Mapping[str, Any]
) -> str:
    """`encode(snapshot_message(…))`, from calls already encoded (`encode_call`)."""
    head = encode({"type": "snapshot", "run": run, "seq": seq, "at": at})
    return f'{head[:-1]},"calls":[{",".join(calls)}],"pbx":{encode(pbx_payload(pbx))}}}'


def diff_text(
    run: str,
    seq: int,
    at: str,
    added: Iterable[str],
    changed: Iterable[str],
    removed: Iterable[str],
    pbx: Mapping[str, Any],
) -> str:
    """`encode(diff_message(…))`, from calls already encoded (`encode_call`)."""
    head = encode({"type": "diff", "run": run, "seq": seq, "at": at})
    return (
        f'{head[:-1]},"added":[{",".join(added)}],"changed":[{",".join(changed)}],'
        f'"removed":{encode(list(removed))},"pbx":{encode(pbx_payload(pbx))}}}'
    )


def encode(message: SnapshotMessage | DiffMessage | Mapping[str, Any] | list[Any]) -> str:
    """The one place payloads become text: compact JSON, real UTF-8 for Turkish text."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def broadcast(text: str, group: str = GROUP) -> None:
    """Send an already encoded message to every socket of `group` (the panels by default)."""
    broadcast_each([(group, text)])


def broadcast_each(pushes: Iterable[tuple[str, str]]) -> None:
    """Send each (group, encoded message) in turn, in one trip to an event loop (the trip costs
    more than a send). A new loop each time, and so new channel-layer connections: a loop kept
    from one poll to the next kept a connection that a network gone silent had broken, and the
    polls stalled (tests/resilience/test_redis_faults.py)."""

    async def send_all() -> None:
        layer = get_channel_layer()
        for group, text in pushes:
            await layer.group_send(group, {"type": PUSH_EVENT, "text": text})

    async_to_sync(send_all)()
