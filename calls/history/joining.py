"""Which CDR row belongs to which call the poller saw: the join rule. Pure, no I/O.

A live call and its CDR row share no identity: the live call has its channel, the row an id of
its own. What they share:

- the caller, `src`, in both the number as the PBX writes it (country code without `+`) or the
  extension of an outgoing call;
- the start: the row's `calldate`, and the `started_at` the poller inferred from the elapsed
  time the PBX reported when it first saw the call. The poller sees a call at most one poll
  interval after it starts (two, when one poll runs late), and both sides count whole seconds;
- who was called, `dst`, but only as a hint: a queued call's `dst` changes from the queue to the
  agent who answers, and the row keeps the last. A row's queue matching the call's is as good.

So a row and a call can be one when `src` is the same and `calldate` lies within `tolerance` of
`started_at` (`join_tolerance`: two poll intervals and the two seconds both sides may round
away). Each row joins one call at most, and each call one row; of the ways to pair the rows and
calls that can be one, the rule takes the one that joins the most, then the one whose pairs' `dst`
(or queue) agree the most, then the one whose pairs lie the closest in time. Two calls of one
caller a minute apart are never confused: neither's row lies within the tolerance of the other's
start. Should one caller's two calls start within seconds of each other, the `dst` decides, and
failing that the nearer start.

PBX clocks are assumed to be synchronised (NTP), as ours: a row dated further from the call's
start than the tolerance joins nothing. The row is stored all the same, and the call, still
without its row a day after it ended, stays a call known only from the live panel
(docs/history.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from django.conf import settings


class Row(Protocol):
    """What the rule reads of a CDR row (`calls.pbx.CdrRecord` is one)."""

    @property
    def src(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def queue(self) -> str: ...
    @property
    def calldate(self) -> datetime: ...


class Seen(Protocol):
    """What the rule reads of a call the poller saw (`calls.models.TrackedCall` is one)."""

    src: str
    dst: str
    queue: str
    started_at: datetime


R = TypeVar("R", bound=Row)
S = TypeVar("S", bound=Seen)


def join_tolerance() -> timedelta:
    """How far a row's `calldate` may lie from the start the poller inferred for its call."""
    return timedelta(seconds=2 * settings.TELSAM_POLL_INTERVAL + 2)


def _agrees(row: Row, call: Seen) -> bool:
    return row.dst == call.dst or bool(row.queue and row.queue == call.queue)


def join(rows: Sequence[R], calls: Sequence[S], tolerance: timedelta) -> list[tuple[R, S]]:
    """The (row, call) pairs the rule joins; see the module docstring."""
    by_caller: dict[str, list[int]] = defaultdict(list)
    for c, call in enumerate(calls):
        by_caller[call.src].append(c)
    costs: dict[tuple[int, int], tuple[bool, timedelta]] = {}
    for r, row in enumerate(rows):
        for c in by_caller.get(row.src, ()):
            call = calls[c]
            gap = abs(call.started_at - row.calldate)
            if gap <= tolerance:
                costs[r, c] = (not _agrees(row, call), gap)
    pairs: list[tuple[int, int]] = []
    for group in _groups(costs):
        pairs += _best(group, costs) if len(group) <= _SEARCHED else _closest_first(group, costs)
    return [(rows[r], calls[c]) for r, c in sorted(pairs)]


# A group of rows and calls that could pair with each other is searched for its best pairing up to
# this many possible pairs (one caller's calls seconds apart: a handful at most); a larger one is
# paired closest first.
_SEARCHED = 12


def _groups(costs: dict[tuple[int, int], object]) -> list[list[tuple[int, int]]]:
    """The possible pairs, in groups that share no row and no call with each other."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(node: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for r, c in costs:
        parent[root(("row", r))] = root(("call", c))
    groups: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for r, c in costs:
        groups[root(("row", r))].append((r, c))
    return list(groups.values())


def _closest_first(group: list[tuple[int, int]], costs) -> list[tuple[int, int]]:
    taken_rows, taken_calls, pairs = set(), set(), []
    for r, c in sorted(group, key=lambda pair: (costs[pair], pair)):
        if r not in taken_rows and c not in taken_calls:
            taken_rows.add(r)
            taken_calls.add(c)
            pairs.append((r, c))
    return pairs


def _best(group: list[tuple[int, int]], costs) -> list[tuple[int, int]]:
    """The pairing that joins the most, then agrees the most, then lies the closest in time:
    closest-first alone could take the one call a second row needed."""
    best: tuple[tuple, list[tuple[int, int]]] | None = None

    def search(index: int, rows: frozenset, calls: frozenset, chosen: list) -> None:
        nonlocal best
        if index == len(group):
            score = (
                -len(chosen),
                sum(costs[pair][0] for pair in chosen),
                sum((costs[pair][1] for pair in chosen), timedelta()),
                sorted(chosen),
            )
            if best is None or score < best[0]:
                best = (score, list(chosen))
            return
        r, c = group[index]
        if r not in rows and c not in calls:
            search(index + 1, rows | {r}, calls | {c}, [*chosen, (r, c)])
        search(index + 1, rows, calls, chosen)

    search(0, frozenset(), frozenset(), [])
    assert best is not None
    return best[1]
