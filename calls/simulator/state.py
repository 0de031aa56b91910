"""The simulated PBX's state and its driving API: live calls, CDR history, faults, a request log.

No HTTP (`server.py` serves it). Time is whatever the injected clock says; with `traffic=True` the
PBX also makes calls by itself (`traffic.py`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from calls.simulator import api
from calls.simulator.faults import Fault, make_fault
from calls.simulator.records import CdrRow, RequestLogEntry, SimulatedCall, UnknownChannel
from calls.simulator.traffic import WARMUP, Traffic, random_number
from calls.simulator.vocabulary import (
    ANSWERED,
    CALLINFO_ON_HOLD,
    CALLINFO_RINGING,
    CALLINFO_TALKING,
    DIRECTION_IN,
    DIRECTIONS,
    DISPOSITIONS,
    NO_ANSWER,
    default_calltype,
    infer_direction,
    queue_calltype,
    queue_of,
)

DEFAULT_EXTENSIONS = tuple(str(n) for n in range(101, 113))
DEFAULT_QUEUES = ("630", "631")
FIRST_CDR_ID = 28700
TRUNK_CHANNEL_PREFIX = "SIP/trunk-sip-Trunk110-"


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        self.extensions = tuple(extensions)
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        # Names have their own stream, so that manual calls do not change which calls a seed's
        # traffic makes (only, perhaps, their channel names).
        self._names = random.Random(f"names:{seed}")
        self._calls: dict[str, SimulatedCall] = {}
        self._cdr: list[CdrRow] = []
        self._log: list[RequestLogEntry] = []
        self._fault: Fault | None = None
        self._issued_channels: set[str] = set()
        self._next_cdr_id = FIRST_CDR_ID
        self._local_channel_counter = self._names.randrange(0x1000, 0xFFFF) << 4
        self._traffic: Traffic | None = None
        now = self._now()  # also refuses a clock without time zones, at once
        if traffic:
            start = now - timedelta(seconds=WARMUP)
            self._traffic = Traffic(
                seed,
                calls=self._calls,
                new_channel=self._new_channel,
                finish=self._finish,
                extensions=self.extensions,
                queues=tuple(queues) or DEFAULT_QUEUES,
                caller_pool=[n.strip().lstrip("+") for n in caller_pool if n and n.strip()],
                caller_pool_share=caller_pool_share,
                mean_gap=mean_gap,
                max_concurrent=max_concurrent,
                start=start,
            )
            self._traffic.prefill_history(start, history_hours)
            self._traffic.advance(now)

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
            calltype = queue_calltype(queue) if queue else default_calltype(direction)
        if queue is None:
            queue = queue_of(calltype)
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
            call = SimulatedCall(
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
                call.queue = queue_of(calltype) or call.queue
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
                CdrRow(
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

    def set_fault(self, kind: str | None, **options: Any) -> None:
        """Make the next API requests fail as `kind` (see `FAULT_KINDS`); None clears. The options
        (latency, how many requests, what `raw` and `reshape` serve) are `make_fault`'s."""
        fault = make_fault(kind, **options)
        with self._lock:
            self._fault = fault

    @property
    def fault(self) -> Fault | None:
        """The fault in force, if any."""
        with self._lock:
            return self._fault

    def take_fault(self) -> Fault | None:
        """The fault for the API request being served; counts it down (called once per request)."""
        with self._lock:
            fault = self._fault
            if fault is not None:
                self._fault = fault.after_one_request()
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
            if self._traffic is not None:
                self._traffic.restart(now)

    # --- the protocol, minus HTTP -------------------------------------------------------------

    def api_payload(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The wrapped JSON answer to one API request's query parameters (see `api.answer`)."""
        return api.answer(self, params)

    # --- internals ----------------------------------------------------------------------------

    def _advance(self, now: datetime) -> None:
        if self._traffic is not None:
            self._traffic.advance(now)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the simulator's clock must return timezone-aware datetimes")
        return now

    def _get(self, channel: str) -> SimulatedCall:
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
            CdrRow(
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
