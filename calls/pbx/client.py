"""The only module that speaks HTTP to the Telsam PBX.

Spec: `docs/telsam-api.md`, the API as we understand it. Everything that comes back is
parsed into frozen dataclasses; every failure becomes a `PbxError` subclass whose message is short,
human-readable and free of the password, which the API insists on carrying in the query string.
For that reason no exception from `requests` is ever chained to ours (its text contains the URL).
"""

from __future__ import annotations

import enum
import json
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
import urllib3

from telsam_panel.redact import redact

logger = logging.getLogger(__name__)

PBX_TIMEZONE = ZoneInfo("Europe/Istanbul")
# ddMMyyyyHHmm with 24-hour hours: the provider's document writes "hh", which would be 12-hour.
CDR_PARAM_FORMAT = "%d%m%Y%H%M"
_ERROR_TEXT_LIMIT = 200
# Thousands of calls are a few hundred kB; anything near this is not an activecalls answer.
MAX_RESPONSE_BYTES = 20_000_000
# A call centre with a thousand agents has a couple of thousand calls at once; a poll that sees
# 10,000 new ones takes about a second. An answer with far more (100,000 rows took 15 s: parsing,
# diffing, matching every number, storing and pushing them) would run the poll past its time
# limit, so it is refused as unusable instead.
MAX_ACTIVE_CALLS = 10_000
# Bounds on what one field may bring in, so a broken PBX cannot flood pages, Redis or the database.
# Identities (a channel, a CDR id) cannot be shortened without breaking hang-up or de-duplication:
# a row with a longer one is refused. Free text is cut. The limits match the database columns.
MAX_CHANNEL_CHARS = 200
MAX_CDR_ID_CHARS = 64
MAX_TEXT_CHARS = 200
MAX_USERFIELD_CHARS = 2000
# A call lasting longer than this is a garbled duration (and would overflow date arithmetic).
MAX_ELAPSED_SECONDS = 31 * 24 * 3600


# --- errors -------------------------------------------------------------------------------------


class PbxReason(enum.StrEnum):
    """Why the PBX could not be used, as a stable code (sent to browsers as `pbx.reason`, which
    show a translated sentence per code; the error's text is the technical detail)."""

    UNREACHABLE = "unreachable"  # refused, unknown host, no route, TLS, connection dropped
    TIMEOUT = "timeout"  # no complete answer within TELSAM_API_TIMEOUT
    HTTP_ERROR = "http_error"  # an HTTP 4xx/5xx status
    BAD_RESPONSE = "bad_response"  # HTML, invalid JSON, wrong shape, no usable rows, too large
    REJECTED = "rejected"  # `success: false` (credentials, action, domain, …)
    NOT_CONFIGURED = "not_configured"  # TELSAM_API_URL missing or not http(s)


class PbxError(Exception):
    """Base of every failure talking to the PBX. `str()` is safe to show to admins."""

    transient = False
    default_reason = PbxReason.BAD_RESPONSE
    raw: str = ""  # the PBX's answer, when it gave one we could not use

    def __init__(self, message: str, *, reason: PbxReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason


class PbxUnavailable(PbxError):
    """The PBX could not be reached or failed on its side (timeout, refused, 5xx): retry later."""

    transient = True
    default_reason = PbxReason.UNREACHABLE


class PbxBadResponse(PbxError):
    """The PBX answered something we cannot use (HTML, bad JSON, wrong shape, 4xx)."""


class PbxRejected(PbxBadResponse):
    """The PBX answered `success: false` (bad credentials, unknown action, …)."""

    default_reason = PbxReason.REJECTED


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
# Each raises ValueError (only) for a value it cannot use; the callers turn that into a skipped row.

_DIGITS = re.compile(r"[0-9]+")
# C0/C1 control characters (NUL breaks PostgreSQL text, others garble pages and logs) and lone
# surrogates, which JSON's \ud800 escapes produce and which no UTF-8 encoder (Redis) accepts.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Text safe to store and show: control characters become spaces, lone surrogates U+FFFD,
    surrounding space is stripped and anything beyond `limit` characters is cut with `…`."""
    text = _SURROGATE.sub("\ufffd", _UNPRINTABLE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_elapsed(value: Any) -> int:
    """`HH:MM:SS` (hours may exceed 24), `MM:SS` or plain seconds → whole seconds."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not all(_DIGITS.fullmatch(p) for p in parts):
        raise ValueError(f"not a duration: {clean_text(text, 30)!r}")
    if any(len(p) > 10 for p in parts):
        raise ValueError(f"duration out of range: {clean_text(text, 30)!r}")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    if len(parts) > 1 and any(int(p) >= 60 for p in parts[1:]):
        raise ValueError(f"minutes/seconds out of range: {text[:30]!r}")
    if seconds > MAX_ELAPSED_SECONDS:
        raise ValueError(f"duration out of range: {text[:30]!r}")
    return seconds


def parse_cdr_duration(value: Any) -> float:
    """CDR durations use a comma as decimal separator (`85,6972`); accept a dot or a number too."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an integer too large for a float
            raise ValueError("duration out of range") from None
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]*)?", text):
            raise ValueError(f"not a duration: {clean_text(value, 30)!r}")
        seconds = float(text)
    else:
        raise ValueError(f"not a duration: {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration out of range: {seconds!r}")
    return seconds


_CALLDATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})\s*([0-9]{2}):([0-9]{2}):([0-9]{2})")


def parse_calldate(value: Any) -> datetime:
    """`dd.MM.yyyy HH:mm:ss` in Istanbul time (also without the space) → aware datetime."""
    match = _CALLDATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not a call date: {clean_text(str(value), 30)!r}")
    day, month, year, hour, minute, second = (int(g) for g in match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=PBX_TIMEZONE)


def format_cdr_param(moment: datetime) -> str:
    """An aware datetime → the `date1`/`date2` parameter: 24-hour Istanbul local time."""
    if moment.tzinfo is None:
        raise ValueError("CDR window bounds must be timezone-aware datetimes")
    return moment.astimezone(PBX_TIMEZONE).strftime(CDR_PARAM_FORMAT)


def parse_direction(value: Any) -> Direction:
    return _DIRECTIONS.get(_text(value).lower(), Direction.UNKNOWN)


def _text(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """A scalar as clean text; numbers are accepted (`"src": 905321234567`), anything else
    (null, booleans, lists, objects) reads as empty."""
    if isinstance(value, str):
        return clean_text(value, limit)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return clean_text(str(value), limit)
    return ""


def _identity(value: Any, name: str, limit: int) -> str:
    """An indispensable identity (channel, CDR id): present, and never shortened."""
    text = _text(value, limit=limit + 1)
    if not text:
        raise ValueError(f"row has no {name}")
    if len(text) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "evet"}
    return bool(value)


def parse_active_call(row: Mapping[str, Any]) -> ActiveCall:
    """One `activecalls` row; only `channel` is indispensable."""
    channel = _identity(row.get("channel"), "channel", MAX_CHANNEL_CHARS)
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
    record_id = _identity(row.get("id"), "id", MAX_CDR_ID_CHARS)
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
        userfield=_text(row.get("userfield"), MAX_USERFIELD_CHARS),
    )


# --- whole answers (pure: text in, typed result or PbxError out) ---------------------------------


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


def _as_text(body: str | bytes) -> str:
    return decode_body(body) if isinstance(body, bytes) else body


def unwrap(body: str | bytes) -> list[Any]:
    """Check the `[{"success": true, "count": N, "data": [...]}]` envelope and return `data`.

    The bare object is accepted too. `count` is advisory (the rows are what counts) and a missing or
    null `data` is an empty list.
    """
    body = _as_text(body)
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
    body = _as_text(body)
    try:
        unwrap(body)
    except PbxBadResponse as exc:
        exc.raw = body[:2000]  # for the audit trail
        raise
    return HangupResult(raw=body[:2000])


def parse_cdr(body: str | bytes) -> CdrBatch:
    """A `cdr` answer → its records, and the rows that could not be read (with why)."""
    records, rejected = [], []
    for index, row in enumerate(unwrap(body)):
        mapping = row if isinstance(row, Mapping) else {}
        try:
            records.append(parse_cdr_record(mapping))
        except ValueError as exc:
            row_id = _text(mapping.get("id"), MAX_CDR_ID_CHARS) or f"#{index}"
            rejected.append(RejectedRow(row_id=row_id, reason=str(exc)))
            logger.warning("Skipped CDR row %s from the PBX: %s", row_id, exc)
    return CdrBatch(records=tuple(records), rejected=tuple(rejected))


def _pbx_message(payload: Mapping[str, Any]) -> str:
    for key in ("message", "msg", "error", "data"):
        value = payload.get(key)
        if value and isinstance(value, str):
            return _short(value)
    return "success is false and no reason was given"


def _short(text: str) -> str:
    return clean_text(" ".join(text.split()), _ERROR_TEXT_LIMIT)


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
        """All calls in progress (see `parse_active_calls`)."""
        return parse_active_calls(self._request("activecalls"))

    def hangup(self, channel: str) -> HangupResult:
        """Ask the PBX to end the call on `channel` (sent URL-encoded)."""
        return parse_hangup(self._request("hangupcall", {"channel": channel}))

    def cdr(self, start: datetime, end: datetime, number: str = "") -> CdrBatch:
        """Call detail records between two aware datetimes (minute precision, Istanbul time)."""
        params = {
            "date1": format_cdr_param(start),
            "date2": format_cdr_param(end),
            "number": number,
            "uf": "yes",
        }
        return parse_cdr(self._request("cdr", params))

    # -- plumbing --

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._password,)

    def _request(self, action: str, params: Mapping[str, str] | None = None) -> str:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise PbxBadResponse(
                "The PBX URL (TELSAM_API_URL) is not set or not an http(s) URL",
                reason=PbxReason.NOT_CONFIGURED,
            )
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
            # InvalidURL and friends: a malformed TELSAM_API_URL; the rest (too many redirects,
            # an answer cut off mid-body) is an answer we cannot use.
            bad_url = isinstance(
                exc, requests.exceptions.InvalidURL | requests.exceptions.URLRequired
            )
            failure = PbxBadResponse(
                f"Request to the PBX at {self._where} failed ({type(exc).__name__})",
                reason=PbxReason.NOT_CONFIGURED if bad_url else PbxReason.BAD_RESPONSE,
            )
        except PbxError as exc:
            failure = exc
        if failure is not None:
            raise failure
        if status >= 500:
            raise PbxUnavailable(
                f"PBX at {self._where} answered HTTP {status}", reason=PbxReason.HTTP_ERROR
            )
        if status >= 400:
            raise PbxBadResponse(
                f"PBX at {self._where} answered HTTP {status} (check TELSAM_API_URL)",
                reason=PbxReason.HTTP_ERROR,
            )
        return redact(decode_body(body, encoding), self._secrets)

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        # One socket read at a time (`read1`): urllib3's `read(n)`, under `iter_content`, waits for
        # n bytes, so a PBX trickling a small answer would hold us to its end, deadline or not.
        raw = response.raw
        read = getattr(raw, "read1", raw.read)  # read1: urllib3 2.3+
        chunks, size = [], 0
        while True:
            failure: PbxError | None = None
            try:
                chunk = read(65536, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError:
                failure = self._too_slow()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                # Connection reset or closed mid-answer; built outside so nothing is chained.
                failure = PbxUnavailable(
                    f"PBX at {self._where} broke off its answer ({type(exc).__name__})"
                )
            if failure is not None:
                raise failure
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise PbxBadResponse(
                    f"PBX answer is larger than {MAX_RESPONSE_BYTES:,} bytes; refused"
                )
            if time.monotonic() > deadline:
                raise self._too_slow()
            chunks.append(chunk)

    def _too_slow(self) -> PbxUnavailable:
        return PbxUnavailable(
            f"PBX at {self._where} did not answer within {self.timeout[1]:g} s",
            reason=PbxReason.TIMEOUT,
        )


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
        ("no address associated", "host name not found"),
        ("failed to resolve", "host name not found"),
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
