"""Every websocket payload is built and sent here (protocol: docs/websocket-protocol.md).

Payloads are serialised to JSON text once per poll and the text travels through the channel layer;
each consumer only forwards it, so a thousand sockets cost one `json.dumps`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from calls.live.diff import LiveCall

GROUP = "live-calls"
# Channel-layer event types; Channels calls the consumer method of the same name (dot → _).
PUSH_EVENT = "calls.push"


class CustomerPayload(TypedDict):
    id: int
    name: str
    company: str
    url: str
    more: int


class CallPayload(TypedDict):
    channel: str
    src: str
    src_display: str
    dst: str
    dst_display: str
    calltype: str
    callinfo: str
    queue: str | None
    direction: Literal["in", "out", "internal"]
    started_at: str
    customer: CustomerPayload | None


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


def pbx_payload(pbx: Mapping[str, Any]) -> PbxPayload:
    """The `Pbx` object with every key present, whoever built it (an older stored snapshot has no
    `reason`)."""
    return {
        "ok": bool(pbx.get("ok")),
        "last_ok_at": pbx.get("last_ok_at"),
        "error": pbx.get("error"),
        "reason": pbx.get("reason"),
    }


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


def snapshot_message(
    run: str, seq: int, at: str | None, calls: Iterable[LiveCall], pbx: Mapping[str, Any]
) -> SnapshotMessage:
    return {
        "type": "snapshot",
        "run": run,
        "seq": seq,
        "at": at,
        "calls": [call.to_payload() for call in calls],  # type: ignore[misc]
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
        "added": [call.to_payload() for call in added],  # type: ignore[misc]
        "changed": [call.to_payload() for call in changed],  # type: ignore[misc]
        "removed": list(removed),
        "pbx": pbx_payload(pbx),
    }


def encode(message: SnapshotMessage | DiffMessage | dict[str, Any]) -> str:
    """The one place messages become text: compact JSON, real UTF-8 for Turkish text."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def broadcast(text: str) -> None:
    """Send an already encoded message to every connected panel."""
    async_to_sync(get_channel_layer().group_send)(GROUP, {"type": PUSH_EVENT, "text": text})


def user_group(user_id: int) -> str:
    """The group of one user's open panels (only the consumer before the fan-out, kept for
    comparison in bench/live_asgi_unpatched.py, still uses it; sessions:
    calls.live.session_watch)."""
    return f"user-{user_id}"
