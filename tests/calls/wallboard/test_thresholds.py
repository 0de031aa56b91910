"""When a tile turns amber or red (calls.wallboard.thresholds): a table of figures against one
queue's levels, and the tile's worst level."""

from __future__ import annotations

import pytest
from django.utils import translation

from calls.models import WallboardQueue
from calls.wallboard.thresholds import Alert, Figure, Level, queue_alerts, worst_level

W, LW, SL = Figure.WAITING, Figure.LONGEST_WAIT, Figure.SERVICE_LEVEL
OK, AMBER, RED = Level.OK, Level.AMBER, Level.RED

# Amber at 3 waiting, red at 6; amber from a 60 s wait, red from 120 s; amber below 80 %, red
# below 60 %.
LEVELS = WallboardQueue(
    queue="630",
    waiting_amber=3,
    waiting_red=6,
    longest_wait_amber=60,
    longest_wait_red=120,
    service_level_amber=80,
    service_level_red=60,
)

CASES = [
    # waiting, longest wait, service level → alerts
    ("all within", 0, None, None, []),
    ("all within, figures known", 2, 59.9, 80.0, []),
    ("reaching a waiting level is past it", 3, 10, 95, [Alert(W, AMBER, 3)]),
    ("beyond amber, short of red", 5, 10, 95, [Alert(W, AMBER, 3)]),
    ("reaching red", 6, 10, 95, [Alert(W, RED, 6)]),
    ("far beyond red: one alert, red", 40, 10, 95, [Alert(W, RED, 6)]),
    ("a wait reaching amber", 1, 60, 95, [Alert(LW, AMBER, 60)]),
    ("a wait reaching red", 1, 120.0, 95, [Alert(LW, RED, 120)]),
    ("service level at its target meets it", 0, None, 80, []),
    ("service level just below amber", 0, None, 79.9, [Alert(SL, AMBER, 80)]),
    ("service level at red is amber still", 0, None, 60, [Alert(SL, AMBER, 80)]),
    ("service level below red", 0, None, 59.5, [Alert(SL, RED, 60)]),
    ("nobody answered yet: 0 %", 0, None, 0, [Alert(SL, RED, 60)]),
    (
        "every figure past, in the order of the figures",
        7,
        61,
        70,
        [Alert(W, RED, 6), Alert(LW, AMBER, 60), Alert(SL, AMBER, 80)],
    ),
]


@pytest.mark.parametrize(
    ("waiting", "longest_wait", "service_level", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_figure_is_past_the_highest_level_it_reached(
    waiting, longest_wait, service_level, expected
):
    alerts = queue_alerts(
        LEVELS, waiting=waiting, longest_wait=longest_wait, service_level=service_level
    )
    assert alerts == expected


def test_an_alert_clears_when_the_figure_is_back():
    figures = [(7, RED), (4, AMBER), (2, OK)]
    for waiting, level in figures:
        alerts = queue_alerts(LEVELS, waiting=waiting, longest_wait=None, service_level=None)
        assert worst_level(alerts) is level


ONLY = [
    # levels set, figures → alerts: a level left empty is no level
    ({"waiting_red": 5}, (4, None, None), []),
    ({"waiting_red": 5}, (5, None, None), [Alert(W, RED, 5)]),
    ({"longest_wait_amber": 30}, (1, 500, None), [Alert(LW, AMBER, 30)]),
    ({"service_level_red": 50}, (0, None, 70), []),
    ({"service_level_red": 50}, (0, None, 49), [Alert(SL, RED, 50)]),
    ({}, (99, 9999, 0), []),
]


@pytest.mark.parametrize(("levels", "figures", "expected"), ONLY)
def test_only_the_levels_set_count(levels, figures, expected):
    waiting, longest_wait, service_level = figures
    queue = WallboardQueue(queue="630", **levels)
    assert (
        queue_alerts(queue, waiting=waiting, longest_wait=longest_wait, service_level=service_level)
        == expected
    )


def test_a_queue_without_a_row_has_no_alerts():
    assert queue_alerts(None, waiting=100, longest_wait=900, service_level=0) == []


@pytest.mark.parametrize(
    ("levels", "worst"),
    [
        ([], OK),
        ([AMBER], AMBER),
        ([AMBER, RED, AMBER], RED),
        ([RED, AMBER], RED),
    ],
)
def test_a_tile_takes_its_worst_alert(levels, worst):
    assert worst_level(Alert(W, level, 1) for level in levels) is worst


def test_each_level_has_a_word_beside_its_colour():
    with translation.override("en"):
        assert [str(level.word) for level in Level] == ["normal", "warning", "alert"]
    with translation.override("tr"):
        assert [str(level.word) for level in Level] == ["normal", "uyarı", "alarm"]
