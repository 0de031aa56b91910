"""What the PBX's answers are read into: frozen dataclasses, never raw dicts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


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
