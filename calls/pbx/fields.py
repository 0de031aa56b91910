"""One field of a PBX row → a clean Python value, and the bounds on what a field may bring in.

Pure functions. Each parser raises ValueError (only) for a value it cannot use; the row parsers
turn that into a skipped row or a default.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calls.pbx.records import Direction

PBX_TIMEZONE = ZoneInfo("Europe/Istanbul")
# ddMMyyyyHHmm with 24-hour hours: the provider's document writes "hh", which would be 12-hour.
CDR_PARAM_FORMAT = "%d%m%Y%H%M"
# Bounds on what one field may bring in, so a broken PBX cannot flood pages, Redis or the database.
# A CDR id cannot be shortened without breaking de-duplication: a row with a longer one is
# refused (a channel's own rule is in `channels`). Free text is cut. The limits match the
# database columns.
MAX_CDR_ID_CHARS = 64
MAX_TEXT_CHARS = 200
MAX_USERFIELD_CHARS = 2000
# A call lasting longer than this is a garbled duration (and would overflow date arithmetic).
MAX_ELAPSED_SECONDS = 31 * 24 * 3600

_DIGITS = re.compile(r"[0-9]+")
# C0/C1 control characters (NUL breaks PostgreSQL text, others garble pages and logs) and lone
# surrogates, which JSON's \ud800 escapes produce and which no UTF-8 encoder (Redis) accepts.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CDR_DURATION = re.compile(r"[0-9]{1,12}(\.[0-9]*)?")
_CALLDATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})\s*([0-9]{2}):([0-9]{2}):([0-9]{2})")
_DIRECTIONS = {
    "incoming": Direction.IN,
    "outcoming": Direction.OUT,  # sic: the PBX's spelling
    "outgoing": Direction.OUT,
    "internal": Direction.INTERNAL,
}


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Text safe to store and show: control characters become spaces, lone surrogates U+FFFD,
    surrounding space is stripped and anything beyond `limit` characters is cut with `…`."""
    text = _SURROGATE.sub("\ufffd", _UNPRINTABLE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scalar(value: Any) -> str:
    """A scalar as the PBX sent it; numbers are accepted (`"src": 905321234567`), anything else
    (null, booleans, lists, objects) reads as empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def text(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """A scalar as clean text (see `scalar` and `clean_text`)."""
    return clean_text(scalar(value), limit)


def identity(value: Any, name: str, limit: int) -> str:
    """An indispensable identity (a CDR id): present, and never shortened."""
    found = text(value, limit=limit + 1)
    if not found:
        raise ValueError(f"row has no {name}")
    if len(found) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return found


def flag(value: Any) -> bool:
    """A yes/no field, however the PBX spells it (`true`, `"1"`, `"evet"`, …)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "evet"}
    return bool(value)


def parse_elapsed(value: Any) -> int:
    """`HH:MM:SS` (hours may exceed 24), `MM:SS` or plain seconds → whole seconds."""
    given = str(value).strip() if isinstance(value, str | int) else ""
    parts = given.split(":")
    if not 1 <= len(parts) <= 3 or not all(_DIGITS.fullmatch(p) for p in parts):
        raise ValueError(f"not a duration: {clean_text(given, 30)!r}")
    if any(len(p) > 10 for p in parts):
        raise ValueError(f"duration out of range: {clean_text(given, 30)!r}")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    if len(parts) > 1 and any(int(p) >= 60 for p in parts[1:]):
        raise ValueError(f"minutes/seconds out of range: {given[:30]!r}")
    if seconds > MAX_ELAPSED_SECONDS:
        raise ValueError(f"duration out of range: {given[:30]!r}")
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
        given = value.strip().replace(",", ".")
        if not _CDR_DURATION.fullmatch(given):
            raise ValueError(f"not a duration: {clean_text(value, 30)!r}")
        seconds = float(given)
    else:
        raise ValueError(f"not a duration: {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration out of range: {seconds!r}")
    return seconds


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
    """The CDR's `calltype` (`incoming`, `outcoming`, `internal`) → a `Direction`."""
    return _DIRECTIONS.get(text(value).lower(), Direction.UNKNOWN)
