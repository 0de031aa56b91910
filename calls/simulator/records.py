"""What the simulated PBX holds: its live calls (with their planned future), the CDR rows it has
written and the API requests it received."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calls.simulator.vocabulary import (
    CDR_CALLTYPES,
    format_calldate,
    format_cdr_duration,
    format_elapsed,
)


class UnknownChannel(KeyError):
    """No active call has this channel. A KeyError, so `end_call`'s contract holds."""

    def __str__(self) -> str:
        return f"no active call on channel {self.args[0]!r}" if self.args else "unknown channel"


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One API request the simulator received; the password is already replaced by `***`."""

    at: datetime
    path: str
    action: str
    params: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the control API's wire form)."""
        return {
            "at": self.at.isoformat(),
            "path": self.path,
            "action": self.action,
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestLogEntry:
        """The inverse of `to_json`."""
        return cls(
            at=datetime.fromisoformat(data["at"]),
            path=str(data["path"]),
            action=str(data["action"]),
            params={str(k): str(v) for k, v in dict(data["params"]).items()},
        )


@dataclass(slots=True)
class PlannedStep:
    """Something that will happen to a traffic call."""

    at: datetime
    action: str  # "ring", "answer", "hold", "resume", "end"
    value: str = ""  # the new dst for "ring", the disposition for "end"


@dataclass(slots=True)
class SimulatedCall:
    """A call in progress."""

    channel: str
    src: str
    dst: str
    calltype: str
    callinfo: str
    direction: str
    started_at: datetime
    queue: str = ""
    answered_at: datetime | None = None
    record: bool | None = None  # None: decided at hang-up (recorded if answered)
    userfield: str = ""
    plan: list[PlannedStep] = field(default_factory=list)  # traffic calls only

    def row(self, now: datetime) -> dict[str, str]:
        """The call's `activecalls` row at `now`."""
        return {
            "channel": self.channel,
            "duration": format_elapsed((now - self.started_at).total_seconds()),
            "calltype": self.calltype,
            "callinfo": self.callinfo,
            "src": self.src,
            "dst": self.dst,
        }


@dataclass(frozen=True, slots=True)
class CdrRow:
    """A finished call in the history."""

    id: int
    channel: str
    started_at: datetime
    ended_at: datetime
    direction: str
    src: str
    dst: str
    disposition: str
    queue: str
    record: bool
    userfield: str
    # Raw field values served instead of the computed ones: tests feed the panel malformed rows.
    overrides: tuple[tuple[str, Any], ...] = ()
    # When the PBX writes the row: at hang-up, or later for a PBX that is slow to (None: already).
    written_at: datetime | None = None

    def written_by(self, now: datetime) -> bool:
        """Whether the PBX has written the row by `now`."""
        return self.written_at is None or self.written_at <= now

    def row(self, *, userfield: bool) -> dict[str, Any]:
        """The row as the `cdr` action serves it (`userfield` only when asked for, `uf=yes`)."""
        row: dict[str, Any] = {
            "id": str(self.id),
            "calldate": format_calldate(self.started_at),
            "calltype": CDR_CALLTYPES[self.direction],
            "src": self.src,
            "dst": self.dst,
            "duration": format_cdr_duration((self.ended_at - self.started_at).total_seconds()),
            "disposition": self.disposition,
            "queue": self.queue,
            "record": self.record,
        }
        if userfield:
            row["userfield"] = self.userfield
        row.update(self.overrides)
        return row
