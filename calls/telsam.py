"""The only module that speaks HTTP to the Telsam PBX.

Spec: `shared/telsam-api.md` (mirrored in `docs/telsam-api.md`). Everything that comes back is
parsed into frozen dataclasses; every failure becomes a `PbxError` subclass whose message is short,
human-readable and free of the password, which the API insists on carrying in the query string.
For that reason no exception from `requests` is ever chained to ours (its text contains the URL).
"""

from __future__ import annotations

import enum
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from telsam_panel.redact import redact

logger = logging.getLogger(__name__)

PBX_TIMEZONE = ZoneInfo("Europe/Istanbul")
# ddMMyyyyHHmm with 24-hour hours: the provider's document writes "hh", which would be 12-hour.
CDR_PARAM_FORMAT = "%d%m%Y%H%M"
_ERROR_TEXT_LIMIT = 200
# Thousands of calls are a few hundred kB; anything near this is not an activecalls answer.
MAX_RESPONSE_BYTES = 20_000_000


# --- errors -------------------------------------------------------------------------------------


class PbxError(Exception):
    """Base of every failure talking to the PBX. `str()` is safe to show to admins."""

    transient = False
    raw: str = ""  # the PBX's answer, when it gave one we could not use


class PbxUnavailable(PbxError):
    """The PBX could not be reached or failed on its side (timeout, refused, 5xx): retry later."""

    transient = True


class PbxBadResponse(PbxError):
    """The PBX answered something we cannot use (HTML, bad JSON, wrong shape, 4xx)."""


class PbxRejected(PbxBadResponse):
    """The PBX answered `success: false` (bad credentials, unknown action, …)."""


# --- typed results ------------------------------------------------------------------------------


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


_DIRECTIONS = {
    "incoming": Direction.IN,
    "outcoming": Direction.OUT,  # sic: the PBX's spelling
    "outgoing": Direction.OUT,
    "internal": Direction.INTERNAL,
}


@dataclass(frozen=True, slots=True)
class ActiveCall:
    """One row of `action=activecalls`. `channel` is the call's identity."""

    channel: str
    src: str
    dst: str
    calltype: str
    callinfo: str
    elapsed: int | None  # seconds since the call started; None when the PBX sent garbage


@dataclass(frozen=True, slots=True)
class CdrRecord:
    """One row of `action=cdr`."""

    id: str
    calldate: datetime  # aware, Europe/Istanbul
    direction: Direction
    src: str
    dst: str
    duration: float  # seconds
    disposition: str
    queue: str
    record: bool
    userfield: str


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row the PBX sent that could not be parsed; the rest of the answer is still used."""

    row_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CdrBatch:
    records: tuple[CdrRecord, ...]
    rejected: tuple[RejectedRow, ...]


@dataclass(frozen=True, slots=True)
class HangupResult:
    """The PBX's answer to `hangupcall`; `raw` is kept for the audit trail (already redacted)."""

    raw: str


# --- field parsers (pure) -----------------------------------------------------------------------


def parse_elapsed(value: Any) -> int:
    """`HH:MM:SS` (hours may exceed 24), `MM:SS` or plain seconds → whole seconds."""
    text = str(value).strip()
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a duration: {text[:30]!r}")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    if len(parts) > 1 and any(int(p) >= 60 for p in parts[1:]):
        raise ValueError(f"minutes/seconds out of range: {text[:30]!r}")
    return seconds


def parse_cdr_duration(value: Any) -> float:
    """CDR durations use a comma as decimal separator (`85,6972`); accept a dot or a number too."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        if not re.fullmatch(r"\d+(\.\d*)?", text):
            raise ValueError(f"not a duration: {str(value)[:30]!r}")
        seconds = float(text)
    if seconds < 0:
        raise ValueError(f"negative duration: {value!r}")
    return seconds


_CALLDATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})\s*(\d{2}):(\d{2}):(\d{2})")


def parse_calldate(value: Any) -> datetime:
    """`dd.MM.yyyy HH:mm:ss` in Istanbul time (also without the space) → aware datetime."""
    match = _CALLDATE.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"not a call date: {str(value)[:30]!r}")
    day, month, year, hour, minute, second = (int(g) for g in match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=PBX_TIMEZONE)


def format_cdr_param(moment: datetime) -> str:
    """An aware datetime → the `date1`/`date2` parameter: 24-hour Istanbul local time."""
    if moment.tzinfo is None:
        raise ValueError("CDR window bounds must be timezone-aware datetimes")
    return moment.astimezone(PBX_TIMEZONE).strftime(CDR_PARAM_FORMAT)


def parse_direction(value: Any) -> Direction:
    return _DIRECTIONS.get(str(value).strip().lower(), Direction.UNKNOWN)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "evet"}
    return bool(value)


def parse_active_call(row: Mapping[str, Any]) -> ActiveCall:
    """One `activecalls` row; only `channel` is indispensable."""
    channel = _text(row.get("channel"))
    if not channel:
        raise ValueError("row has no channel")
    try:
        elapsed: int | None = parse_elapsed(row.get("duration", ""))
    except ValueError:
        elapsed = None
    return ActiveCall(
        channel=channel,
        src=_text(row.get("src")),
        dst=_text(row.get("dst")),
        calltype=_text(row.get("calltype")),
        callinfo=_text(row.get("callinfo")),
        elapsed=elapsed,
    )


def parse_cdr_record(row: Mapping[str, Any]) -> CdrRecord:
    """One `cdr` row; `id` and `calldate` are indispensable."""
    record_id = _text(row.get("id"))
    if not record_id:
        raise ValueError("row has no id")
    return CdrRecord(
        id=record_id,
        calldate=parse_calldate(row.get("calldate", "")),
        direction=parse_direction(row.get("calltype")),
        src=_text(row.get("src")),
        dst=_text(row.get("dst")),
        duration=parse_cdr_duration(row.get("duration") or 0),
        disposition=_text(row.get("disposition")).upper(),
        queue=_text(row.get("queue")),
        record=_flag(row.get("record")),
        userfield=_text(row.get("userfield")),
    )


# --- envelope -----------------------------------------------------------------------------------


def unwrap(body: str) -> list[Any]:
    """Check the `[{"success": true, "count": N, "data": [...]}]` envelope and return `data`.

    The bare object is accepted too. `count` is advisory (the rows are what counts) and a missing or
    null `data` is an empty list.
    """
    stripped = body.lstrip()
    if stripped[:1] == "<":
        raise PbxBadResponse(
            "PBX answered with an HTML page instead of JSON (wrong URL or an error page)"
        )
    try:
        payload = json.loads(body)
    except ValueError:
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
    if not _flag(payload.get("success")):
        raise PbxRejected(f"PBX refused the request: {_pbx_message(payload)}")
    data = payload.get("data")
    if data is None:
        return []
    if isinstance(data, dict):  # some PBX builds send one row bare
        return [data]
    if not isinstance(data, list):
        raise PbxBadResponse("PBX answer has an unexpected shape (data is not a list)")
    return data


def _pbx_message(payload: Mapping[str, Any]) -> str:
    for key in ("message", "msg", "error", "data"):
        value = payload.get(key)
        if value and isinstance(value, str):
            return _short(value)
    return "success is false and no reason was given"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_TEXT_LIMIT else text[: _ERROR_TEXT_LIMIT - 1] + "…"


# --- client -------------------------------------------------------------------------------------


class TelsamClient:
    """A thin client over the PBX's GET API.

    `base_url` is the full base: V1 `http://host/` or V2 `http://host/api/old/get`; the query string
    is appended as is.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url
        self.username = username
        self._password = password
        # Connecting should be quick on a LAN or the internet; the answer may take longer.
        self.timeout = (min(3.05, timeout), timeout)
        self._session = session or requests.Session()
        self._where = urlsplit(base_url).netloc or base_url

    def __repr__(self) -> str:
        return f"<TelsamClient {self._where} user={self.username!r}>"

    def active_calls(self) -> list[ActiveCall]:
        """All calls in progress. Unusable rows are skipped and logged, never fatal."""
        calls = []
        for index, row in enumerate(self._get("activecalls")):
            try:
                calls.append(parse_active_call(row if isinstance(row, Mapping) else {}))
            except ValueError as exc:
                logger.warning("Skipped active-call row %d from the PBX: %s", index, exc)
        return calls

    def hangup(self, channel: str) -> HangupResult:
        """Ask the PBX to end the call on `channel` (sent URL-encoded)."""
        body = self._request("hangupcall", {"channel": channel})
        try:
            unwrap(body)  # the answer is undocumented: judge it like every other one
        except PbxBadResponse as exc:
            exc.raw = body[:2000]  # for the audit trail; already free of the password
            raise
        return HangupResult(raw=body[:2000])

    def cdr(self, start: datetime, end: datetime, number: str = "") -> CdrBatch:
        """Call detail records between two aware datetimes (minute precision, Istanbul time)."""
        params = {
            "date1": format_cdr_param(start),
            "date2": format_cdr_param(end),
            "number": number,
            "uf": "yes",
        }
        records, rejected = [], []
        for index, row in enumerate(self._get("cdr", params)):
            mapping = row if isinstance(row, Mapping) else {}
            try:
                records.append(parse_cdr_record(mapping))
            except (ValueError, TypeError) as exc:
                row_id = _text(mapping.get("id")) or f"#{index}"
                rejected.append(RejectedRow(row_id=row_id, reason=str(exc)))
                logger.warning("Skipped CDR row %s from the PBX: %s", row_id, exc)
        return CdrBatch(records=tuple(records), rejected=tuple(rejected))

    # -- plumbing --

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._password,)

    def _get(self, action: str, params: Mapping[str, str] | None = None) -> list[Any]:
        return unwrap(self._request(action, params))

    def _request(self, action: str, params: Mapping[str, str] | None = None) -> str:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise PbxBadResponse("The PBX URL (TELSAM_API_URL) is not set or not an http(s) URL")
        query = {"username": self.username, "password": self._password, "action": action}
        query.update(params or {})
        # requests' read timeout applies per socket read: a PBX trickling its answer would never
        # time out. The whole exchange gets one deadline, checked between chunks.
        deadline = time.monotonic() + self.timeout[1]
        # Build our own exception outside the `except` blocks so that nothing from requests (whose
        # messages quote the URL, password included) is chained to it as __context__.
        failure: PbxError | None = None
        try:
            with self._session.get(
                self.base_url, params=query, timeout=self.timeout, stream=True
            ) as response:
                status, encoding = response.status_code, response.encoding
                body = self._read_body(response, deadline) if status < 400 else b""
        except requests.Timeout:
            failure = self._too_slow()
        except requests.ConnectionError as exc:
            # A read timeout while streaming the body arrives as a ConnectionError.
            timed_out = "timed out" in str(exc).lower()
            failure = (
                self._too_slow()
                if timed_out
                else PbxUnavailable(_describe_connection_error(exc, self._where))
            )
        except requests.RequestException as exc:
            failure = PbxBadResponse(
                f"Request to the PBX at {self._where} failed ({type(exc).__name__})"
            )
        except PbxError as exc:
            failure = exc
        if failure is not None:
            raise failure
        if status >= 500:
            raise PbxUnavailable(f"PBX at {self._where} answered HTTP {status}")
        if status >= 400:
            raise PbxBadResponse(
                f"PBX at {self._where} answered HTTP {status} (check TELSAM_API_URL)"
            )
        if not encoding or encoding.lower() == "iso-8859-1":
            encoding = "utf-8"  # the PBX sends UTF-8 JSON, often without a charset
        return redact(body.decode(encoding, errors="replace"), self._secrets)

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise PbxBadResponse(
                    f"PBX answer is larger than {MAX_RESPONSE_BYTES // 1_000_000} MB; refused"
                )
            if time.monotonic() > deadline:
                raise self._too_slow()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_slow(self) -> PbxUnavailable:
        return PbxUnavailable(f"PBX at {self._where} did not answer within {self.timeout[1]:g} s")


def _describe_connection_error(exc: requests.ConnectionError, where: str) -> str:
    """A sentence on why a connection failed, without the URL that requests puts in its text."""
    text = str(exc).lower()
    if "remotedisconnected" in text or "connection aborted" in text or "reset by peer" in text:
        return f"PBX at {where} closed the connection without answering"
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("temporary failure in name resolution", "host name not found"),
        ("no route to host", "no route to host"),
        ("ssl", "TLS error"),
    ):
        if needle in text:
            return f"Could not connect to the PBX at {where} ({reason})"
    return f"Could not connect to the PBX at {where} (network error)"


def client_from_settings() -> TelsamClient:
    """The client configured by `TELSAM_API_*` settings."""
    from django.conf import settings

    return TelsamClient(
        settings.TELSAM_API_URL,
        settings.TELSAM_API_USERNAME,
        settings.TELSAM_API_PASSWORD,
        timeout=settings.TELSAM_API_TIMEOUT,
    )
