"""What the simulated PBX says: its Turkish strings, its messages and the formats of its fields.

Everything here is modelled on docs/telsam-api.md. Only a few of the Turkish strings are documented
by the provider; the rest are our inference of what an Asterisk-based hosted PBX in Turkey sends,
so the panel must treat all of them as free text:

| value | field | source |
|---|---|---|
| `Konuşuyor` (talking) | callinfo | documented |
| `Kuyruk(630)` (queue 630) | calltype | documented |
| `Çalıyor` (ringing), `Beklemede` (on hold), `Kuyrukta` (in a queue) | callinfo | inferred |
| `Gelen Arama` (in), `Dış Arama` (out), `Dahili` (internal) | calltype | inferred |
| `incoming`, `outcoming` (sic), `internal` | CDR calltype | documented / sibling API |
| `ANSWERED`, `NO ANSWER`, `BUSY` | CDR disposition | documented |
| `03: Domain adı hatalı`, `05: Kullanıcı…`, `07: Action hatalı` | message | sibling API |
| `Kanal bulunamadı`, the date-format message | message | inferred |

Also inferred: a queued call's `dst` is the queue number while it waits and becomes the agent's
extension once it rings; CDR `duration` is the whole call (ring + talk, Asterisk's `duration`, not
`billsec`); CDR ids are assigned when a call ends (Asterisk writes the CDR row at hang-up).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

PBX_TIMEZONE = ZoneInfo("Europe/Istanbul")

CALLINFO_RINGING = "Çalıyor"
CALLINFO_TALKING = "Konuşuyor"
CALLINFO_ON_HOLD = "Beklemede"
CALLINFO_QUEUED = "Kuyrukta"

CALLTYPE_INCOMING = "Gelen Arama"
CALLTYPE_OUTGOING = "Dış Arama"
CALLTYPE_INTERNAL = "Dahili"

DIRECTION_IN = "in"
DIRECTION_OUT = "out"
DIRECTION_INTERNAL = "internal"
DIRECTIONS = frozenset({DIRECTION_IN, DIRECTION_OUT, DIRECTION_INTERNAL})
CDR_CALLTYPES = {
    DIRECTION_IN: "incoming",
    DIRECTION_OUT: "outcoming",
    DIRECTION_INTERNAL: "internal",
}

ANSWERED = "ANSWERED"
NO_ANSWER = "NO ANSWER"
BUSY = "BUSY"
# Asterisk also writes these two; accepted so tests can feed them to the panel.
DISPOSITIONS = frozenset({ANSWERED, NO_ANSWER, BUSY, "FAILED", "CONGESTION"})

MESSAGE_BAD_CREDENTIALS = "05: Kullanıcı bilgileri bulunamadı!"
MESSAGE_BAD_ACTION = "07: Action hatalı"
MESSAGE_BAD_DOMAIN = "03: Domain adı hatalı"
MESSAGE_UNKNOWN_CHANNEL = "Kanal bulunamadı"
MESSAGE_BAD_DATE = "Tarih hatalı: date1 ve date2 ddMMyyyyHHmm biçiminde olmalı"

_EXTENSION_MAX_DIGITS = 6  # anything shorter is an extension or a queue, not a phone number
_QUEUE_CALLTYPE = re.compile(r"Kuyruk\((\d+)\)")
_CDR_PARAM = re.compile(r"\d{12}")


def format_elapsed(seconds: float) -> str:
    """Whole seconds → `HH:MM:SS`; hours may exceed 24, as on a real PBX."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def format_cdr_duration(seconds: float) -> str:
    """Seconds → the PBX's comma-decimal form (`85,6972`)."""
    return f"{max(0.0, seconds):.4f}".replace(".", ",")


def format_calldate(moment: datetime) -> str:
    """An aware datetime → the CDR's `calldate`: `dd.MM.yyyy HH:mm:ss`, Istanbul time."""
    return moment.astimezone(PBX_TIMEZONE).strftime("%d.%m.%Y %H:%M:%S")


def parse_cdr_param(value: str) -> datetime:
    """`ddMMyyyyHHmm` (24-hour, Istanbul local time) → aware datetime; ValueError if malformed."""
    if not _CDR_PARAM.fullmatch(value or ""):
        raise ValueError(f"not a ddMMyyyyHHmm date: {value!r}")
    # Sliced by hand: strptime's %d/%H also accept one digit and can mis-split 12 digits.
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:8])
    hour, minute = int(value[8:10]), int(value[10:12])
    return datetime(year, month, day, hour, minute, tzinfo=PBX_TIMEZONE)


def is_extension(number: str) -> bool:
    """True for extensions and queue numbers (short), False for phone numbers."""
    return len(number) < _EXTENSION_MAX_DIGITS


def infer_direction(src: str, dst: str) -> str:
    """A call's direction from its ends: an extension calling out is outbound, and so on."""
    if is_extension(src):
        return DIRECTION_INTERNAL if is_extension(dst) else DIRECTION_OUT
    return DIRECTION_IN


def queue_calltype(queue: str) -> str:
    """The calltype of a call waiting in or answered from `queue` (`Kuyruk(630)`)."""
    return f"Kuyruk({queue})"


def queue_of(calltype: str) -> str:
    """The queue named by a `Kuyruk(NNN)` calltype, or "" for any other."""
    match = _QUEUE_CALLTYPE.fullmatch(calltype.strip())
    return match.group(1) if match else ""


def default_calltype(direction: str) -> str:
    """The calltype of a call not in a queue."""
    return {
        DIRECTION_IN: CALLTYPE_INCOMING,
        DIRECTION_OUT: CALLTYPE_OUTGOING,
        DIRECTION_INTERNAL: CALLTYPE_INTERNAL,
    }[direction]
