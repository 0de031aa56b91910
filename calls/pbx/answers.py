"""The PBX's answers read whole: text or bytes in, typed results or a `PbxError` out. No I/O.

The envelope is `[{"success": true, "count": N, "data": [...]}]` (docs/telsam-api.md). A row that
cannot be read is skipped and logged; the rest of the answer is still used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from calls.pbx import fields
from calls.pbx.channels import channel_problem
from calls.pbx.errors import PbxBadResponse, PbxRejected
from calls.pbx.fields import MAX_CDR_ID_CHARS, MAX_USERFIELD_CHARS
from calls.pbx.records import ActiveCall, CdrBatch, CdrRecord, HangupResult, RejectedRow

logger = logging.getLogger(__name__)

# A call centre with a thousand agents has a couple of thousand calls at once; a poll that sees
# 10,000 new ones takes about a second. An answer with far more (100,000 rows took 15 s: parsing,
# diffing, matching every number, storing and pushing them) would run the poll past its time
# limit, so it is refused as unusable instead.
MAX_ACTIVE_CALLS = 10_000
_ERROR_TEXT_LIMIT = 200
# Kept of a hang-up answer for the audit trail.
_HANGUP_ANSWER_CHARS = 2000


def decode_body(raw: bytes, charset: str | None = None) -> str:
    """The answer's bytes as text. The PBX sends UTF-8, often without saying so (requests then
    guesses ISO-8859-1) and sometimes naming a charset nobody knows; bytes that are not valid in
    the encoding become U+FFFD rather than an error."""
    if not charset or charset.lower() in ("iso-8859-1", "latin-1", "latin1"):
        charset = "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):  # unknown, not a text codec, or malformed name
        return raw.decode("utf-8", errors="replace")


def unwrap(body: str | bytes) -> list[Any]:
    """Check the `[{"success": true, "count": N, "data": [...]}]` envelope and return `data`.

    The bare object is accepted too. `count` is advisory (the rows are what counts) and a missing or
    null `data` is an empty list.
    """
    body = _body_text(body)
    stripped = body.lstrip()
    if stripped[:1] == "<":
        raise PbxBadResponse(
            "PBX answered with an HTML page instead of JSON (wrong URL or an error page)"
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        if not stripped:
            raise PbxBadResponse("PBX answered with an empty body") from None
        raise PbxBadResponse("PBX answered with invalid JSON (truncated or garbled)") from None
    if isinstance(payload, list):
        if len(payload) != 1 or not isinstance(payload[0], dict):
            raise PbxBadResponse(
                "PBX answer has an unexpected shape (expected one object in a list)"
            )
        payload = payload[0]
    if not isinstance(payload, dict):
        raise PbxBadResponse("PBX answer has an unexpected shape (expected a JSON object)")
    if "success" not in payload:
        raise PbxBadResponse("PBX answer has an unexpected shape (no success field)")
    if not fields.flag(payload.get("success")):
        raise PbxRejected(f"PBX refused the request: {_pbx_message(payload)}")
    data = payload.get("data")
    if data is None:
        return []
    if isinstance(data, dict):  # some PBX builds send one row bare
        return [data]
    if not isinstance(data, list):
        raise PbxBadResponse("PBX answer has an unexpected shape (data is not a list)")
    return data


def parse_active_call(row: Mapping[str, Any]) -> ActiveCall:
    """One `activecalls` row; only `channel` is indispensable, and it is kept as sent."""
    channel = fields.scalar(row.get("channel"))
    problem = channel_problem(channel)
    if problem:
        raise ValueError(problem)
    try:
        elapsed: int | None = fields.parse_elapsed(row.get("duration", ""))
    except ValueError:
        elapsed = None
    return ActiveCall(
        channel=channel,
        src=fields.text(row.get("src")),
        dst=fields.text(row.get("dst")),
        calltype=fields.text(row.get("calltype")),
        callinfo=fields.text(row.get("callinfo")),
        elapsed=elapsed,
    )


def parse_cdr_record(row: Mapping[str, Any]) -> CdrRecord:
    """One `cdr` row; `id` and `calldate` are indispensable."""
    record_id = fields.identity(row.get("id"), "id", MAX_CDR_ID_CHARS)
    return CdrRecord(
        id=record_id,
        calldate=fields.parse_calldate(row.get("calldate", "")),
        direction=fields.parse_direction(row.get("calltype")),
        src=fields.text(row.get("src")),
        dst=fields.text(row.get("dst")),
        duration=fields.parse_cdr_duration(row.get("duration") or 0),
        disposition=fields.text(row.get("disposition")).upper(),
        queue=fields.text(row.get("queue")),
        record=fields.flag(row.get("record")),
        userfield=fields.text(row.get("userfield"), MAX_USERFIELD_CHARS),
    )


def parse_active_calls(body: str | bytes) -> list[ActiveCall]:
    """An `activecalls` answer → its calls. Unusable rows are skipped and logged; an answer with
    rows of which none is usable is a `PbxBadResponse`, not "no calls": it says nothing about the
    calls, and taking it for an empty PBX would clear every panel."""
    rows = unwrap(body)
    if len(rows) > MAX_ACTIVE_CALLS:
        raise PbxBadResponse(
            f"PBX answer lists {len(rows):,} calls, more than the {MAX_ACTIVE_CALLS:,} allowed; "
            "refused"
        )
    calls, problems = [], []
    for index, row in enumerate(rows):
        try:
            calls.append(parse_active_call(row if isinstance(row, Mapping) else {}))
        except ValueError as exc:
            problems.append(str(exc))
            logger.warning("Skipped active-call row %d from the PBX: %s", index, exc)
    if rows and not calls:
        raise PbxBadResponse(
            f"PBX answer has no usable call rows ({len(rows)} rows; first: {problems[0]})"
        )
    return calls


def parse_hangup(body: str | bytes) -> HangupResult:
    """A `hangupcall` answer (undocumented: judged like every other one) → its raw text."""
    body = _body_text(body)
    try:
        unwrap(body)
    except PbxBadResponse as exc:
        exc.raw = body[:_HANGUP_ANSWER_CHARS]  # for the audit trail
        raise
    return HangupResult(raw=body[:_HANGUP_ANSWER_CHARS])


def parse_cdr(body: str | bytes) -> CdrBatch:
    """A `cdr` answer → its records, and the rows that could not be read (with why)."""
    records, rejected = [], []
    for index, row in enumerate(unwrap(body)):
        mapping = row if isinstance(row, Mapping) else {}
        try:
            records.append(parse_cdr_record(mapping))
        except ValueError as exc:
            row_id = fields.text(mapping.get("id"), MAX_CDR_ID_CHARS) or f"#{index}"
            rejected.append(RejectedRow(row_id=row_id, reason=str(exc)))
            logger.warning("Skipped CDR row %s from the PBX: %s", row_id, exc)
    return CdrBatch(records=tuple(records), rejected=tuple(rejected))


def _body_text(body: str | bytes) -> str:
    return decode_body(body) if isinstance(body, bytes) else body


def _pbx_message(payload: Mapping[str, Any]) -> str:
    for key in ("message", "msg", "error", "data"):
        value = payload.get(key)
        if value and isinstance(value, str):
            return fields.clean_text(" ".join(value.split()), _ERROR_TEXT_LIMIT)
    return "success is false and no reason was given"
