"""The soak's schedule: which PBX fault runs when, and when the web server is restarted.

A pure function of the run's length, so a short run (the test suite's) and the ten-minute run go
through the same kinds of trouble, only closer together.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

# Every fault kind of the simulator, with the options that make it a failure for a panel whose
# PBX timeout is one second: `latency` answers too late, `hang` drops the connection after it,
# `trickle` spreads a correct answer over it (so only a whole-answer deadline catches it), `raw` is
# a proxy in front of the PBX failing, `reshape` a PBX whose answer changed shape.
FAULTS: Mapping[str, Mapping[str, Any]] = {
    "http_500": {},
    "latency": {"latency": 1.5},
    "html": {},
    "hang": {"latency": 2.0},
    "truncated": {},
    "raw": {
        "status": 502,
        "content_type": "text/plain; charset=utf-8",
        "body": "502 Bad Gateway",
    },
    "trickle": {"latency": 3.0},
    "success_false": {},
    "reshape": {"envelope": {"data": "Sistem bakımda"}},
}


MIN_DURATION_S = 30


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """The simulator answers every API request with `kind` from `at` for `length` seconds
    (seconds since the run started)."""

    kind: str
    at: float
    length: float

    @property
    def options(self) -> Mapping[str, Any]:
        """Keyword arguments for `PbxSimulator.set_fault`."""
        return FAULTS[self.kind]

    @property
    def end(self) -> float:
        return self.at + self.length


@dataclass(frozen=True, slots=True)
class Schedule:
    faults: tuple[FaultWindow, ...]
    restarts: tuple[float, ...]  # when the web server is stopped and started again
    quiet_tail: float  # the last seconds have no fault: polls must run undisturbed


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def plan(duration: float, kinds: Collection[str]) -> Schedule:
    """The schedule of a run of `duration` seconds (at least 30) through the fault `kinds` the
    simulator offers (those the soak knows how to use; see `unknown_kinds`).

    A calm start (clients settle), then faults one after the other, each kind in turn for a few
    seconds with a calm spell between two, and a calm end. The web server restarts once in a short
    run and twice in a long one, wherever that falls.
    """
    if duration < MIN_DURATION_S:
        raise ValueError(f"a soak run needs at least {MIN_DURATION_S} seconds")
    order = [kind for kind in FAULTS if kind in kinds]
    warmup = _clamp(duration * 0.1, 3, 30)
    tail = _clamp(duration * 0.15, 5, 60)
    active = duration - warmup - tail
    # Every kind at least once; in a long run, one fault about every 20 s.
    count = max(len(order), int(active // 20))
    spacing = active / count
    # A few seconds each, and a calm third of each slot at least, so faults never run together.
    length = min(_clamp(active / 20, 2, 5), spacing * 2 / 3)
    faults = tuple(
        FaultWindow(order[i % len(order)], warmup + i * spacing, length) for i in range(count)
    )
    n_restarts = 1 if duration < 180 else 2
    restarts = tuple(warmup + active * k / (n_restarts + 1) for k in range(1, n_restarts + 1))
    return Schedule(faults=faults, restarts=restarts, quiet_tail=tail)


def unknown_kinds(kinds: Collection[str]) -> list[str]:
    """Fault kinds of the simulator that the soak does not inject yet (it needs their options)."""
    return sorted(set(kinds) - set(FAULTS))
