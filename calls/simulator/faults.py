"""The failures the simulated PBX can be told to answer with, and the answers they make.

How each kind is served over HTTP (delays, dropped connections, trickling) is `server.py`'s; what
the kinds are, how they are checked and how `reshape` patches the real answer is here.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

FAULT_KINDS = frozenset(
    {
        "latency",
        "http_500",
        "html",
        "truncated",
        "success_false",
        "hang",
        "trickle",
        "raw",  # any status code, content type and body bytes
        "reshape",  # the real answer with its envelope and rows patched
    }
)
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
MAX_REPEAT = 1000


@dataclass(frozen=True, slots=True)
class Fault:
    """The failure the next API requests get. `remaining` None means until cleared.

    `raw` serves `status`, `content_type` and `body` as they are. `reshape` serves the real answer
    after merge-patching (RFC 7396: a null deletes the key) every row of `data` with `row`, then
    listing each row `repeat` times, then merge-patching the envelope object with `envelope`, and
    encodes the JSON text in `encoding`.
    """

    kind: str
    latency: float = 0.0
    remaining: int | None = None
    status: int = 200
    content_type: str = JSON_CONTENT_TYPE
    body: bytes = b""
    envelope: Mapping[str, Any] | None = None
    row: Mapping[str, Any] | None = None
    repeat: int = 1
    encoding: str = "utf-8"

    def after_one_request(self) -> Fault | None:
        """The fault in force once one more API request has had it (None when used up)."""
        if self.remaining is None:
            return self
        left = self.remaining - 1
        return replace(self, remaining=left) if left > 0 else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the control API's `state`); a raw body is given by its size."""
        summary: dict[str, Any] = {
            "kind": self.kind,
            "latency": self.latency,
            "remaining": self.remaining,
        }
        if self.kind == "raw":
            summary.update(
                status=self.status, content_type=self.content_type, body_size=len(self.body)
            )
        elif self.kind == "reshape":
            summary.update(
                envelope=self.envelope, row=self.row, repeat=self.repeat, encoding=self.encoding
            )
        return summary


def make_fault(
    kind: str | None,
    *,
    latency: float = 0.0,
    count: int | None = None,
    status: int = 200,
    content_type: str = JSON_CONTENT_TYPE,
    body: bytes | str = b"",
    envelope: Mapping[str, Any] | None = None,
    row: Mapping[str, Any] | None = None,
    repeat: int = 1,
    encoding: str = "utf-8",
) -> Fault | None:
    """The fault these options describe (None for `kind` None, which clears); ValueError for
    options no fault can have, whatever the kind.

    `latency` delays the answer (for `hang`, the dropped connection; other kinds may use it
    too); `count` limits the fault to the next N API requests, after which it clears itself.
    `status`, `content_type` and `body` (bytes, or text sent as UTF-8) are what `raw` serves;
    `envelope`, `row`, `repeat` and `encoding` shape what `reshape` serves (see `Fault`).
    """
    if kind is not None and kind not in FAULT_KINDS:
        raise ValueError(f"fault kind must be one of {sorted(FAULT_KINDS)} or None")
    if latency < 0:
        raise ValueError("latency cannot be negative")
    if count is not None and count < 1:
        raise ValueError("count must be at least 1 (or None for until cleared)")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code (100-599)")
    if not isinstance(content_type, str) or "\r" in content_type or "\n" in content_type:
        raise ValueError("content_type must be one header line")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes):
        raise ValueError("body must be bytes or text")
    for name, patch in (("envelope", envelope), ("row", row)):
        if patch is not None and not isinstance(patch, Mapping):
            raise ValueError(f"{name} must be an object (a JSON merge patch)")
    if not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be between 1 and {MAX_REPEAT}")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ValueError(f"unknown encoding: {encoding!r}") from None
    if kind is None:
        return None
    return Fault(
        kind,
        float(latency),
        count,
        status=status,
        content_type=content_type,
        body=body,
        envelope=envelope,
        row=row,
        repeat=repeat,
        encoding=encoding,
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def reshape_payload(payload: list[dict[str, Any]], fault: Fault) -> bytes:
    """The `reshape` fault's answer: `payload` (the wrapped answer) patched as `fault` says."""
    envelope = dict(payload[0])
    rows = envelope.get("data")
    if isinstance(rows, list):
        if fault.row:
            rows = [merge_patch(row, fault.row) for row in rows]
        envelope["data"] = [row for row in rows for _ in range(fault.repeat)]
    if fault.envelope:
        envelope = merge_patch(envelope, fault.envelope)
    text = json.dumps([envelope], ensure_ascii=False)
    # A PBX whose strings are not UTF-8 (e.g. Windows-1254 Turkish); unencodable characters → "?".
    return text.encode(fault.encoding, errors="replace")
