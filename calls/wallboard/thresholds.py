"""When a wallboard tile turns amber or red: the one rule that reads a queue's levels.

Pure: the figures are passed in, nothing is remembered, so an alert clears at the first figures
that are back within their levels. Two figures rise as a queue gets worse and are past a level
once they reach it ("waiting ≥ N", "longest wait ≥ S seconds"); the service level falls and is
past a level once it is below it ("below P %": exactly P % meets the target). A figure that is
not known (nobody waits, no call answered or missed today) raises nothing. How admins set the
levels: docs/wallboard-setup.md.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from calls.models import WallboardQueue


class Level(StrEnum):
    """How a figure stands, in rising order of concern."""

    OK = "ok"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def word(self):
        """What the tile says beside its colour, so that the colour is not all that tells."""
        return _LEVEL_WORDS[self]


_LEVEL_WORDS = {Level.OK: _("normal"), Level.AMBER: _("warning"), Level.RED: _("alert")}


class Figure(StrEnum):
    WAITING = "waiting"
    LONGEST_WAIT = "longest_wait"
    SERVICE_LEVEL = "service_level"


# When a figure is past a level: rising figures from the level on, the falling one below it.
_PAST: dict[Figure, Callable[[float, float], bool]] = {
    Figure.WAITING: operator.ge,
    Figure.LONGEST_WAIT: operator.ge,
    Figure.SERVICE_LEVEL: operator.lt,
}


@dataclass(frozen=True)
class Alert:
    """A figure past one of its queue's levels: the highest it is past, and that level's value."""

    figure: Figure
    level: Level
    threshold: int


def queue_alerts(
    queue: WallboardQueue | None,
    *,
    waiting: int,
    longest_wait: float | None,
    service_level: float | None,
) -> list[Alert]:
    """The alerts of one queue's tile, at most one per figure, in the order of `Figure`.

    `queue` is the queue's row (None: no levels set, so no alerts); `waiting` the calls waiting,
    `longest_wait` the longest of their waits in seconds, `service_level` today's in percent.
    """
    if queue is None:
        return []
    values = {
        Figure.WAITING: waiting,
        Figure.LONGEST_WAIT: longest_wait,
        Figure.SERVICE_LEVEL: service_level,
    }
    alerts = []
    for figure, value in values.items():
        if value is None:
            continue
        for level in (Level.RED, Level.AMBER):
            threshold = getattr(queue, f"{figure}_{level}")
            if threshold is not None and _PAST[figure](value, threshold):
                alerts.append(Alert(figure, level, threshold))
                break
    return alerts


def worst_level(alerts: Iterable[Alert]) -> Level:
    """The level of a tile: its worst alert's, OK without any."""
    return max((alert.level for alert in alerts), key=lambda level: level.rank, default=Level.OK)
