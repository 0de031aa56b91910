"""The PBX simulator's state machine: live calls, CDR history, faults and a request log. No HTTP.

Everything the simulator serves is modelled on `docs/telsam-api.md`. Only a few of the Turkish
strings are documented by the provider; the rest are our inference of what an Asterisk-based hosted
PBX in Turkey sends, so the panel must treat all of them as free text:

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

Time is whatever the injected clock says. With `traffic=True` the simulated PBX is event driven:
every call gets a full timeline when it arrives, drawn from a seeded `random.Random`, and the state
is advanced lazily, event by event, up to "now" whenever someone looks. Because random numbers are
drawn in event order rather than poll order, the same seed and the same clock give the same calls
however often (or rarely) the simulator is polled.
"""

from __future__ import annotations

import codecs
import json
import random
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
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
_CDR_CALLTYPES = {
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

DEFAULT_EXTENSIONS = tuple(str(n) for n in range(101, 113))
DEFAULT_QUEUES = ("630", "631")
FIRST_CDR_ID = 28700
TRUNK_CHANNEL_PREFIX = "SIP/trunk-sip-Trunk110-"

# Inbound numbers: country code 90 without "+", then a 10-digit national number.
_MOBILE_PREFIXES = ("50", "53", "54", "55")
_FIXED_PREFIXES = ("212", "216", "312", "850")
_EXTENSION_MAX_DIGITS = 6  # anything shorter is an extension or a queue, not a phone number
_QUEUE_CALLTYPE = re.compile(r"Kuyruk\((\d+)\)")
_CDR_PARAM = re.compile(r"\d{12}")

# Traffic model. Times in seconds. The live stream is much busier than the pre-filled history on
# purpose: a demo wants movement on screen, a CDR sync wants a plausible day.
_WARMUP = 180.0  # live traffic starts this long before the simulator, so calls are up at once
_SHARE_INBOUND, _SHARE_OUTBOUND = 0.7, 0.2  # the rest is internal
_SHARE_QUEUED = 0.6  # of inbound calls
_SHARE_ANSWERED, _SHARE_NO_ANSWER = 0.75, 0.18  # the rest is busy
_SHARE_HOLD = 0.25  # of answered calls
_SHARE_RECORDED = 0.9  # of answered calls
_USERFIELDS = ("", "", "", "IVR:1", "IVR:2", "Gelen bilgi")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def format_elapsed(seconds: float) -> str:
    """Whole seconds → `HH:MM:SS`; hours may exceed 24, as on a real PBX."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def format_cdr_duration(seconds: float) -> str:
    """Seconds → the PBX's comma-decimal form (`85,6972`)."""
    return f"{max(0.0, seconds):.4f}".replace(".", ",")


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


@dataclass(slots=True)
class _Step:
    at: datetime
    action: str  # "ring", "answer", "hold", "resume", "end"
    value: str = ""  # the new dst for "ring", the disposition for "end"


@dataclass(slots=True)
class _Call:
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
    plan: list[_Step] = field(default_factory=list)  # traffic calls only

    def row(self, now: datetime) -> dict[str, str]:
        return {
            "channel": self.channel,
            "duration": format_elapsed((now - self.started_at).total_seconds()),
            "calltype": self.calltype,
            "callinfo": self.callinfo,
            "src": self.src,
            "dst": self.dst,
        }


@dataclass(frozen=True, slots=True)
class _Cdr:
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
        return self.written_at is None or self.written_at <= now

    def row(self, *, userfield: bool) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": str(self.id),
            "calldate": self.started_at.astimezone(PBX_TIMEZONE).strftime("%d.%m.%Y %H:%M:%S"),
            "calltype": _CDR_CALLTYPES[self.direction],
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


class PbxSimulator:
    """A fake Telsam PBX: thread-safe, driven by tests or by its own seeded traffic.

    `clock` returns an aware datetime (UTC by default, real time); every duration and CDR date is
    computed from it. With `traffic=True` calls arrive about every `mean_gap` seconds (at most
    `max_concurrent` at once; arrivals beyond that are turned away by the "trunk" and leave no
    CDR), inbound callers come from `caller_pool` with probability `caller_pool_share`, and
    `history_hours` of CDR rows are pre-filled.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        seed: int = 0,
        traffic: bool = False,
        caller_pool: Sequence[str] = (),
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        clock: Callable[[], datetime] | None = None,
        queues: Sequence[str] = DEFAULT_QUEUES,
        mean_gap: float = 6.0,
        max_concurrent: int = 8,
        caller_pool_share: float = 0.6,
        history_hours: float = 48.0,
    ) -> None:
        if not extensions:
            raise ValueError("the simulator needs at least one extension")
        if mean_gap <= 0 or max_concurrent < 1:
            raise ValueError("mean_gap must be positive and max_concurrent at least 1")
        self.username = username
        self._password = password
        self.seed = seed
        self.traffic = traffic
        self.caller_pool = tuple(n.strip().lstrip("+") for n in caller_pool if n and n.strip())
        self.extensions = tuple(extensions)
        self.queues = tuple(queues) or DEFAULT_QUEUES
        self.mean_gap = mean_gap
        self.max_concurrent = max_concurrent
        self.caller_pool_share = caller_pool_share
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        # Separate streams, so that adding manual calls or changing the history length does not
        # change which calls a seed's live traffic makes (only, perhaps, their channel names).
        self._rng = random.Random(f"traffic:{seed}")
        self._names = random.Random(f"names:{seed}")
        self._calls: dict[str, _Call] = {}
        self._cdr: list[_Cdr] = []
        self._log: list[RequestLogEntry] = []
        self._fault: Fault | None = None
        self._issued_channels: set[str] = set()
        self._next_cdr_id = FIRST_CDR_ID
        self._local_channel_counter = self._names.randrange(0x1000, 0xFFFF) << 4
        now = self._now()
        self._next_arrival = now - timedelta(seconds=_WARMUP)
        if traffic:
            self._prefill_history(now - timedelta(seconds=_WARMUP), history_hours)
            self._advance(now)

    def __repr__(self) -> str:
        return f"<PbxSimulator user={self.username!r} seed={self.seed} traffic={self.traffic}>"

    # --- credentials --------------------------------------------------------------------------

    @property
    def password(self) -> str:
        """The API password (needed by the HTTP layer to check and to redact it)."""
        return self._password

    def check_credentials(self, username: str, password: str) -> bool:
        """True when both match those the simulator was started with."""
        return username == self.username and password == self._password

    # --- driving API --------------------------------------------------------------------------

    def add_call(
        self,
        src: str,
        dst: str,
        *,
        callinfo: str = CALLINFO_RINGING,
        calltype: str | None = None,
        channel: str | None = None,
        direction: str | None = None,
        elapsed: int = 0,
        queue: str | None = None,
        record: bool | None = None,
        userfield: str = "",
    ) -> str:
        """Start a call now (or `elapsed` seconds ago) and return its channel.

        `direction` is inferred from src/dst when None; `calltype` from the direction (or the
        queue, when one is given); `queue` from a `Kuyruk(NNN)` calltype. `record` None means
        "recorded if it was answered".
        """
        src, dst = str(src).strip(), str(dst).strip()
        if not src or not dst:
            raise ValueError("src and dst are required")
        if elapsed < 0:
            raise ValueError("elapsed cannot be negative")
        direction = direction or infer_direction(src, dst)
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {sorted(DIRECTIONS)}, not {direction!r}")
        if calltype is None:
            calltype = queue_calltype(queue) if queue else _default_calltype(direction)
        if queue is None:
            queue = _queue_of(calltype)
        with self._lock:
            now = self._now()
            self._advance(now)
            if channel is None:
                channel = self._new_channel(direction, src)
            elif channel in self._calls:
                raise ValueError(f"channel {channel!r} is already in use")
            else:
                self._issued_channels.add(channel)
            started_at = now - timedelta(seconds=elapsed)
            call = _Call(
                channel=channel,
                src=src,
                dst=dst,
                calltype=calltype,
                callinfo=callinfo,
                direction=direction,
                started_at=started_at,
                queue=queue,
                record=record,
                userfield=userfield,
            )
            if callinfo in (CALLINFO_TALKING, CALLINFO_ON_HOLD):
                call.answered_at = started_at
            self._calls[channel] = call
            return channel

    def add_calls(self, count: int, *, callinfo: str = CALLINFO_TALKING) -> list[str]:
        """Start `count` inbound calls at once (a very busy PBX) and return their channels.

        Callers are random numbers, each calling one of the extensions, already some way into the
        call; drawn from the name generator, so the traffic stream is not disturbed.
        """
        if not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive whole number")
        channels = []
        for index in range(count):
            channels.append(
                self.add_call(
                    random_number(self._names),
                    self.extensions[index % len(self.extensions)],
                    callinfo=callinfo,
                    elapsed=self._names.randrange(0, 600),
                )
            )
        return channels

    def update_call(
        self,
        channel: str,
        *,
        callinfo: str | None = None,
        calltype: str | None = None,
        dst: str | None = None,
        src: str | None = None,
    ) -> None:
        """Change a live call. Answering (callinfo `Konuşuyor`) records the answer time."""
        with self._lock:
            now = self._now()
            self._advance(now)
            call = self._get(channel)
            if callinfo is not None:
                call.callinfo = callinfo
                if callinfo in (CALLINFO_TALKING, CALLINFO_ON_HOLD) and call.answered_at is None:
                    call.answered_at = now
            if calltype is not None:
                call.calltype = calltype
                call.queue = _queue_of(calltype) or call.queue
            if dst is not None:
                call.dst = dst
            if src is not None:
                call.src = src

    def end_call(
        self, channel: str, *, disposition: str | None = None, cdr_delay: float = 0.0
    ) -> None:
        """Hang up: the call leaves `active_calls` and becomes a CDR row, dated by its start.

        The disposition defaults to ANSWERED if the call was ever answered, else NO ANSWER.
        `cdr_delay` seconds pass before the row appears in `cdr` answers (a PBX that writes it
        late). Raises `UnknownChannel` (a KeyError) if no such call is active.
        """
        if disposition is not None and disposition not in DISPOSITIONS:
            raise ValueError(f"disposition must be one of {sorted(DISPOSITIONS)}")
        if isinstance(cdr_delay, bool) or not isinstance(cdr_delay, int | float) or cdr_delay < 0:
            raise ValueError("cdr_delay must be a number of seconds, 0 or more")
        with self._lock:
            now = self._now()
            self._advance(now)
            self._get(channel)
            self._finish(channel, now, disposition, cdr_delay)

    def active_calls(self) -> list[dict[str, str]]:
        """The `activecalls` rows as served right now."""
        with self._lock:
            now = self._now()
            self._advance(now)
            return [call.row(now) for call in self._calls.values()]

    def cdr_rows(
        self, start: datetime, end: datetime, number: str = "", *, userfield: bool = True
    ) -> list[dict[str, Any]]:
        """CDR rows written so far of calls that started in [start, end], both at minute
        precision.

        Like the `cdr` action: a call started at 15:30:59 is in a window ending at 15:30.
        `number` keeps calls whose src or dst contains it. Oldest first.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("CDR window bounds must be timezone-aware datetimes")
        low = start.replace(second=0, microsecond=0)
        high = end.replace(second=0, microsecond=0) + timedelta(minutes=1)
        with self._lock:
            now = self._now()
            self._advance(now)
            chosen = [
                cdr
                for cdr in self._cdr
                if low <= cdr.started_at < high
                and cdr.written_by(now)
                and (not number or number in cdr.src or number in cdr.dst)
            ]
        chosen.sort(key=lambda cdr: (cdr.started_at, cdr.id))
        return [cdr.row(userfield=userfield) for cdr in chosen]

    def add_cdr(
        self,
        src: str,
        dst: str,
        *,
        started_at: datetime,
        duration: float = 60.0,
        direction: str | None = None,
        disposition: str = ANSWERED,
        queue: str = "",
        record: bool = True,
        userfield: str = "",
        overrides: Mapping[str, Any] | None = None,
    ) -> str:
        """Add a finished call straight to the history and return its CDR id.

        `overrides` replaces fields of the served row with raw values (e.g. `{"calldate": "??"}`)
        to feed the panel the malformed rows a real PBX may send.
        """
        if started_at.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        with self._lock:
            cdr_id = self._next_cdr_id
            self._next_cdr_id += 1
            self._cdr.append(
                _Cdr(
                    id=cdr_id,
                    channel=f"SIP/history-{cdr_id}",
                    started_at=started_at,
                    ended_at=started_at + timedelta(seconds=duration),
                    direction=direction or infer_direction(src, dst),
                    src=src,
                    dst=dst,
                    disposition=disposition,
                    queue=queue,
                    record=record,
                    userfield=userfield,
                    overrides=tuple((overrides or {}).items()),
                )
            )
        return str(cdr_id)

    def cdr_count(self) -> int:
        """How many CDR rows the PBX has written so far (pre-filled history included)."""
        with self._lock:
            now = self._now()
            self._advance(now)
            return sum(cdr.written_by(now) for cdr in self._cdr)

    def state(self) -> dict[str, Any]:
        """A JSON-ready summary: active calls, CDR count, current fault."""
        with self._lock:
            fault = self._fault
            return {
                "active_calls": self.active_calls(),
                "cdr_count": self.cdr_count(),
                "fault": None if fault is None else fault.to_json(),
                "traffic": self.traffic,
            }

    # --- faults -------------------------------------------------------------------------------

    def set_fault(
        self,
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
    ) -> None:
        """Make the next API requests fail as `kind` (see `FAULT_KINDS`); None clears.

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
        fault = Fault(
            kind or "",
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
        with self._lock:
            self._fault = None if kind is None else fault

    @property
    def fault(self) -> Fault | None:
        """The fault in force, if any."""
        with self._lock:
            return self._fault

    def take_fault(self) -> Fault | None:
        """The fault for the API request being served; counts it down (called once per request)."""
        with self._lock:
            fault = self._fault
            if fault is not None and fault.remaining is not None:
                left = fault.remaining - 1
                self._fault = replace(fault, remaining=left) if left > 0 else None
            return fault

    # --- request log --------------------------------------------------------------------------

    def log_request(self, path: str, params: Mapping[str, str]) -> RequestLogEntry:
        """Record an API request; the password never reaches the log."""
        masked = {key: ("***" if key == "password" else value) for key, value in params.items()}
        with self._lock:
            entry = RequestLogEntry(self._now(), path, params.get("action", ""), masked)
            self._log.append(entry)
            return entry

    def request_log(self) -> list[RequestLogEntry]:
        """A copy of the API requests received so far, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def requests_log(self) -> list[RequestLogEntry]:
        """Same as `request_log()`."""
        return self.request_log()

    def clear_request_log(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._log.clear()

    def reset(self) -> None:
        """Drop calls (without writing CDR), CDR, faults and the log.

        CDR ids and channel names keep counting up, so a panel that de-duplicates on them still
        sees what comes after the reset. Traffic, if on, resumes from now.
        """
        with self._lock:
            now = self._now()
            self._calls.clear()
            self._cdr.clear()
            self._log.clear()
            self._fault = None
            self._next_arrival = now

    # --- the protocol, minus HTTP -------------------------------------------------------------

    def api_payload(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The wrapped JSON answer to one API request's query parameters."""
        if not self.check_credentials(params.get("username", ""), params.get("password", "")):
            return failure(MESSAGE_BAD_CREDENTIALS)
        action = params.get("action", "")
        if action == "activecalls":
            return success(self.active_calls())
        if action == "hangupcall":
            try:
                self.end_call(params.get("channel", ""))
            except KeyError:
                return failure(MESSAGE_UNKNOWN_CHANNEL)
            return success([])
        if action == "cdr":
            try:
                start = parse_cdr_param(params.get("date1", ""))
                end = parse_cdr_param(params.get("date2", ""))
            except ValueError:
                return failure(MESSAGE_BAD_DATE)
            rows = self.cdr_rows(
                start, end, params.get("number", ""), userfield=params.get("uf") == "yes"
            )
            return success(rows)
        return failure(MESSAGE_BAD_ACTION)

    # --- internals ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the simulator's clock must return timezone-aware datetimes")
        return now

    def _get(self, channel: str) -> _Call:
        try:
            return self._calls[channel]
        except KeyError:
            raise UnknownChannel(channel) from None

    def _finish(
        self, channel: str, at: datetime, disposition: str | None, cdr_delay: float = 0.0
    ) -> None:
        """The call ends at `at`: the PBX writes its row then (or `cdr_delay` seconds later),
        numbered in hang-up order and dated by the call's start, as Asterisk does."""
        call = self._calls.pop(channel)
        if disposition is None:
            disposition = ANSWERED if call.answered_at is not None else NO_ANSWER
        # Only answered calls leave a recording, unless a test asked for something else.
        record = call.record if call.record is not None else disposition == ANSWERED
        self._cdr.append(
            _Cdr(
                id=self._next_cdr_id,
                channel=call.channel,
                started_at=call.started_at,
                ended_at=max(at, call.started_at),
                direction=call.direction,
                src=call.src,
                dst=call.dst,
                disposition=disposition,
                queue=call.queue,
                record=record,
                userfield=call.userfield,
                written_at=at + timedelta(seconds=cdr_delay),
            )
        )
        self._next_cdr_id += 1

    def _new_channel(self, direction: str, src: str) -> str:
        if direction == DIRECTION_IN:
            # Trunk channels end in 5 hex digits; drawn at random, never reused.
            while True:
                channel = f"{TRUNK_CHANNEL_PREFIX}{self._names.getrandbits(20):05x}"
                if channel not in self._issued_channels:
                    self._issued_channels.add(channel)
                    return channel
        # Asterisk numbers local channels with a running 8-hex-digit counter.
        while True:
            self._local_channel_counter += self._names.randint(1, 7)
            channel = f"SIP/{src}-{self._local_channel_counter & 0xFFFFFFFF:08x}"
            if channel not in self._issued_channels:
                self._issued_channels.add(channel)
                return channel

    # --- traffic ------------------------------------------------------------------------------

    def _advance(self, now: datetime) -> None:
        """Play traffic events up to `now`, earliest first (call steps before a tied arrival)."""
        if not self.traffic:
            return
        while True:
            due: _Call | None = None
            for call in self._calls.values():
                if call.plan and (due is None or call.plan[0].at < due.plan[0].at):
                    due = call
            if due is not None and due.plan[0].at <= self._next_arrival:
                if due.plan[0].at > now:
                    return
                self._apply(due, due.plan.pop(0))
            else:
                if self._next_arrival > now:
                    return
                at = self._next_arrival
                if len(self._calls) < self.max_concurrent:
                    call = self._plan_call(self._rng, at)
                    self._calls[call.channel] = call
                gap = min(self._rng.expovariate(1 / self.mean_gap), self.mean_gap * 6)
                self._next_arrival = at + timedelta(seconds=gap)

    def _apply(self, call: _Call, step: _Step) -> None:
        if step.action == "ring":
            call.callinfo, call.dst = CALLINFO_RINGING, step.value
        elif step.action == "answer":
            call.callinfo, call.answered_at = CALLINFO_TALKING, step.at
        elif step.action == "hold":
            call.callinfo = CALLINFO_ON_HOLD
        elif step.action == "resume":
            call.callinfo = CALLINFO_TALKING
        elif step.action == "end":
            self._finish(call.channel, step.at, step.value)

    def _plan_call(self, rng: random.Random, at: datetime) -> _Call:
        """A new call arriving at `at`, with its whole future drawn from `rng`."""
        kind = rng.random()
        if kind < _SHARE_INBOUND:
            direction = DIRECTION_IN
            src = self._caller(rng)
            agent = rng.choice(self.extensions)
            queued = rng.random() < _SHARE_QUEUED
        else:
            direction = (
                DIRECTION_OUT if kind < _SHARE_INBOUND + _SHARE_OUTBOUND else DIRECTION_INTERNAL
            )
            src = rng.choice(self.extensions)
            if direction == DIRECTION_OUT:
                agent = random_number(rng)
            else:
                others = [e for e in self.extensions if e != src] or [src]
                agent = rng.choice(others)
            queued = False
        queue = rng.choice(self.queues) if queued else ""
        call = _Call(
            channel=self._new_channel(direction, src),
            src=src,
            dst=queue or agent,
            calltype=queue_calltype(queue) if queue else _default_calltype(direction),
            callinfo=CALLINFO_QUEUED if queue else CALLINFO_RINGING,
            direction=direction,
            started_at=at,
            queue=queue,
            userfield=rng.choice(_USERFIELDS) if direction == DIRECTION_IN else "",
        )

        def later(seconds: float) -> datetime:
            return at + timedelta(seconds=seconds)

        t = 0.0
        outcome = rng.random()
        if queue:
            t += rng.uniform(3, 25) if outcome < _SHARE_ANSWERED else rng.uniform(10, 45)
            if outcome >= _SHARE_ANSWERED:
                # The caller gave up while waiting in the queue.
                call.plan.append(_Step(later(t), "end", NO_ANSWER))
                return call
            call.plan.append(_Step(later(t), "ring", agent))
        if outcome < _SHARE_ANSWERED:
            t += rng.uniform(2, 12)
            call.plan.append(_Step(later(t), "answer"))
            talk = rng.uniform(15, 180)
            if rng.random() < _SHARE_HOLD:
                hold_from = t + rng.uniform(5, talk * 0.7)
                call.plan.append(_Step(later(hold_from), "hold"))
                call.plan.append(_Step(later(hold_from + rng.uniform(5, 40)), "resume"))
                talk = max(talk, hold_from - t + 50)
            call.record = rng.random() < _SHARE_RECORDED
            call.plan.append(_Step(later(t + talk), "end", ANSWERED))
        elif outcome < _SHARE_ANSWERED + _SHARE_NO_ANSWER:
            call.plan.append(_Step(later(t + rng.uniform(10, 30)), "end", NO_ANSWER))
        else:
            call.plan.append(_Step(later(t + rng.uniform(0.5, 3)), "end", BUSY))
        return call

    def _caller(self, rng: random.Random) -> str:
        if self.caller_pool and rng.random() < self.caller_pool_share:
            # A customer rarely calls twice at once: pick among those not already on a call.
            busy = {number for call in self._calls.values() for number in (call.src, call.dst)}
            free = [number for number in self.caller_pool if number not in busy]
            if free:
                return rng.choice(free)
        return random_number(rng)

    def _prefill_history(self, until: datetime, hours: float) -> None:
        """A few hundred CDR rows over the last `hours`, busier in Istanbul business hours."""
        if hours <= 0:
            return
        rng = random.Random(f"history:{self.seed}")
        at = until - timedelta(hours=hours)
        finished: list[tuple[datetime, _Call, str]] = []
        while True:
            # Thinning: draw at the peak rate and keep each arrival with probability rate/peak.
            # (Drawing the gap at the current rate would let one long night-time gap jump over
            # the start of the business day.)
            at += timedelta(seconds=rng.expovariate(_HISTORY_PEAK_RATE / 3600))
            if at >= until:
                break
            if rng.random() * _HISTORY_PEAK_RATE > _history_rate(at.astimezone(PBX_TIMEZONE)):
                continue
            call = self._plan_call(rng, at)
            for step in call.plan:
                if step.action == "end":
                    finished.append((step.at, call, step.value))
                else:
                    _apply_offline(call, step)
        # CDR ids follow hang-up order, as Asterisk inserts the row when the call ends.
        finished.sort(key=lambda item: item[0])
        for ended_at, call, disposition in finished:
            if ended_at >= until:
                continue
            self._calls[call.channel] = call
            self._finish(call.channel, ended_at, disposition)


def _apply_offline(call: _Call, step: _Step) -> None:
    if step.action == "ring":
        call.dst = step.value
    elif step.action == "answer":
        call.answered_at = step.at


_HISTORY_PEAK_RATE = 12.0


def _history_rate(local: datetime) -> float:
    """Calls per hour at a given Istanbul local time."""
    weekend = local.weekday() >= 5
    if 9 <= local.hour < 18:
        return 4.0 if weekend else 12.0
    if 8 <= local.hour < 21:
        return 2.0 if weekend else 4.0
    return 0.5


def random_number(rng: random.Random) -> str:
    """A Turkish number in the PBX's form: `90` + 10 national digits, mobile or fixed line."""
    if rng.random() < 0.75:
        prefix = rng.choice(_MOBILE_PREFIXES) + str(rng.randint(0, 9))
    else:
        prefix = rng.choice(_FIXED_PREFIXES)
    rest = "".join(str(rng.randint(0, 9)) for _ in range(10 - len(prefix)))
    return f"90{prefix}{rest}"


def _default_calltype(direction: str) -> str:
    return {
        DIRECTION_IN: CALLTYPE_INCOMING,
        DIRECTION_OUT: CALLTYPE_OUTGOING,
        DIRECTION_INTERNAL: CALLTYPE_INTERNAL,
    }[direction]


def _queue_of(calltype: str) -> str:
    match = _QUEUE_CALLTYPE.fullmatch(calltype.strip())
    return match.group(1) if match else ""


def success(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The PBX's success envelope: a one-element list."""
    return [{"success": True, "count": len(rows), "data": rows}]


def failure(message: str) -> list[dict[str, Any]]:
    """The PBX's failure envelope: a one-element list."""
    return [{"success": False, "message": message}]
