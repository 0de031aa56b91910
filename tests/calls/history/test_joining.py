"""The join rule (calls.history.joining), case by case: which CDR row is which polled call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from calls.history.joining import join, join_tolerance

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
TOLERANCE = timedelta(seconds=6)  # two 2 s poll intervals and two seconds of rounding
AYSE, MEHMET = "905321234567", "905559998877"


@dataclass(frozen=True)
class Row:
    name: str
    src: str
    dst: str
    calldate: datetime
    queue: str = ""


@dataclass
class Call:
    name: str
    src: str
    dst: str
    started_at: datetime
    queue: str = ""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


CASES = [
    # (id, rows, calls, the pairs joined as "row=call")
    (
        "one call, its row a second off",
        [Row("r", AYSE, "110", at(1))],
        [Call("c", AYSE, "110", at(0))],
        {"r=c"},
    ),
    (
        "the row a poll late, the other way",
        [Row("r", AYSE, "110", at(0))],
        [Call("c", AYSE, "110", at(2))],
        {"r=c"},
    ),
    (
        "a row beyond the tolerance joins nothing",
        [Row("r", AYSE, "110", at(7))],
        [Call("c", AYSE, "110", at(0))],
        set(),
    ),
    (
        "another caller's row at the same moment joins nothing",
        [Row("r", MEHMET, "110", at(0))],
        [Call("c", AYSE, "110", at(0))],
        set(),
    ),
    (
        "two calls of one caller a minute apart, both noted",
        [Row("second", AYSE, "110", at(61)), Row("first", AYSE, "110", at(1))],
        [Call("a", AYSE, "110", at(0)), Call("b", AYSE, "110", at(60))],
        {"first=a", "second=b"},
    ),
    (
        "two calls of one caller a minute apart, only the second noted",
        [Row("first", AYSE, "110", at(1)), Row("second", AYSE, "110", at(61))],
        [Call("b", AYSE, "110", at(60))],
        {"second=b"},
    ),
    (
        "two calls of one caller a minute apart, only the first row come yet",
        [Row("first", AYSE, "110", at(1))],
        [Call("a", AYSE, "110", at(0)), Call("b", AYSE, "110", at(60))],
        {"first=a"},
    ),
    (
        "one caller on two lines at once: the callee decides",
        [Row("to 111", AYSE, "111", at(1)), Row("to 110", AYSE, "110", at(1))],
        [Call("a", AYSE, "110", at(1)), Call("b", AYSE, "111", at(0))],
        {"to 110=a", "to 111=b"},
    ),
    (
        "a queued call: the row has the agent, the call was first seen at the queue",
        [Row("answered by 101", AYSE, "101", at(0), queue="630")],
        [Call("other", AYSE, "101", at(-4)), Call("queued", AYSE, "630", at(1), queue="630")],
        {"answered by 101=queued"},
    ),
    (
        "two rows for one call: the nearer joins, the other stays a row of its own",
        [Row("far", AYSE, "110", at(5)), Row("near", AYSE, "110", at(1))],
        [Call("c", AYSE, "110", at(0))],
        {"near=c"},
    ),
    (
        "nearest first would leave a row out: both join",
        # `x` is nearest to `b`, but `y` can only be `b`'s: x=a, y=b joins both.
        [Row("x", AYSE, "110", at(2)), Row("y", AYSE, "110", at(8))],
        [Call("a", AYSE, "110", at(0)), Call("b", AYSE, "110", at(3))],
        {"x=a", "y=b"},
    ),
    (
        "outgoing calls of one extension to two numbers seconds apart",
        [Row("to ayse", "110", AYSE, at(3)), Row("to mehmet", "110", MEHMET, at(1))],
        [Call("a", "110", MEHMET, at(1)), Call("b", "110", AYSE, at(2))],
        {"to mehmet=a", "to ayse=b"},
    ),
]


@pytest.mark.parametrize(
    ("rows", "calls", "joined"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_rule_joins_each_row_to_its_own_call(rows, calls, joined):
    pairs = join(rows, calls, TOLERANCE)
    assert {f"{row.name}={call.name}" for row, call in pairs} == joined


def test_a_busy_minute_of_many_callers_joins_every_row_to_its_call():
    calls = [Call(f"c{n}", f"90532{n:07d}", "110", at(n % 60)) for n in range(3000)]
    rows = [Row(f"c{n}", f"90532{n:07d}", "110", at(n % 60 + 1)) for n in range(3000)]
    pairs = join(rows, calls, TOLERANCE)
    assert len(pairs) == 3000
    assert all(row.name == call.name for row, call in pairs)


def test_the_tolerance_is_two_poll_intervals_and_the_seconds_both_sides_round_away(settings):
    settings.TELSAM_POLL_INTERVAL = 2.0
    assert join_tolerance() == timedelta(seconds=6)
    settings.TELSAM_POLL_INTERVAL = 5.0
    assert join_tolerance() == timedelta(seconds=12)
