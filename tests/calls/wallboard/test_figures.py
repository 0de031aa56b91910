"""The wallboard's figures from poll sequences: queues, their total, extensions, staleness."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from calls.wallboard import QueueCounts, extension_board, queue_figures, with_cdr_counts
from tests.support.wallboard_polls import (
    AYSE,
    FATMA,
    MEHMET,
    at,
    dialling,
    play,
    queued,
    ringing,
    talking,
    talking_out,
)

WARM = (-2, [], True)  # the polls were running before each case begins

THREE_WAITING = [
    WARM,
    (0, [queued("c1", "630")], True),
    (2, [queued("c1", "630"), queued("c2", "630", MEHMET)], True),
    (4, [queued("c1", "630"), queued("c2", "630", MEHMET), queued("c3", "630", FATMA)], True),
]
ONE_ANSWERED = [
    *THREE_WAITING,
    (
        6,
        [talking("c1", "630", "101"), queued("c2", "630", MEHMET), queued("c3", "630", FATMA)],
        True,
    ),
]

# (id, polls, read at t, sl_seconds, short_abandon_seconds, {queue or "total": {figure: value}})
QUEUE_CASES = [
    (
        "three waiting: the longest waits since the first poll that saw it",
        THREE_WAITING,
        5,
        20,
        0,
        {
            "630": {"waiting": 3, "longest_waiting_since": at(0), "talking": 0, "offered": 0},
            "total": {"waiting": 3, "longest_waiting_since": at(0)},
        },
    ),
    (
        "one answered: two wait, one talks, its wait measured",
        ONE_ANSWERED,
        7,
        20,
        0,
        {
            "630": {
                "waiting": 2,
                "longest_waiting_since": at(2),
                "talking": 1,
                "offered": 1,
                "answered": 1,
                "answered_within_sl": 1,
                "service_level": 100.0,
                "average_wait": 6.0,
                "average_answer_wait": 6.0,
                "longest_wait": 6,
            }
        },
    ),
    (
        "abandoned: offered, not answered, the service level missed",
        [*ONE_ANSWERED, (8, [talking("c1", "630", "101"), queued("c3", "630", FATMA)], True)],
        9,
        20,
        0,
        {
            "630": {
                "waiting": 1,
                "offered": 2,
                "answered": 1,
                "abandoned": 1,
                "service_level": 50.0,
                "average_wait": 6.0,  # (6 + 6) / 2: c2 waited from 2 to 8
                "average_answer_wait": 6.0,
                "longest_wait": 6,
            }
        },
    ),
    (
        "a short abandon is left out of the service level when asked, still counted abandoned",
        [*ONE_ANSWERED, (8, [talking("c1", "630", "101"), queued("c3", "630", FATMA)], True)],
        9,
        20,
        7,
        {"630": {"abandoned": 1, "short_abandoned": 1, "service_level": 100.0, "offered": 2}},
    ),
    (
        "a wait of exactly the threshold is within it",
        [
            WARM,
            (0, [queued("c1", "630"), queued("c2", "630", MEHMET)], True),
            (2, [queued("c1", "630"), queued("c2", "630", MEHMET)], True),
            (4, [talking("c1", "630", "101"), queued("c2", "630", MEHMET)], True),
            (6, [talking("c1", "630", "101"), talking("c2", "630", "102", MEHMET)], True),
        ],
        7,
        4,
        0,
        {"630": {"answered": 2, "answered_within_sl": 1, "service_level": 50.0}},
    ),
    (
        "nothing offered: no service level, no waits",
        [WARM, (0, [queued("c1", "630")], True)],
        1,
        20,
        0,
        {
            "630": {"offered": 0, "service_level": None, "average_wait": None},
            "total": {"service_level": None, "longest_wait": None},
        },
    ),
    (
        "a call in no queue is on no queue's row",
        [WARM, (0, [ringing("c1", None, "101")], True), (2, [talking("c1", None, "101")], True)],
        3,
        20,
        0,
        {"total": {"waiting": 0, "talking": 0, "offered": 0}},
    ),
    (
        "two queues and their total",
        [
            WARM,
            (0, [queued("c1", "630"), queued("c2", "640", MEHMET)], True),
            (2, [talking("c1", "630", "101"), queued("c2", "640", MEHMET)], True),
            (4, [talking("c1", "630", "101")], True),
        ],
        5,
        3,
        0,
        {
            "630": {"answered": 1, "service_level": 100.0, "talking": 1},
            "640": {"abandoned": 1, "service_level": 0.0, "longest_wait": 4},
            "total": {
                "offered": 2,
                "answered": 1,
                "abandoned": 1,
                "talking": 1,
                "service_level": 50.0,
                "average_wait": 3.0,
                "longest_wait": 4,
            },
        },
    ),
    (
        "PBX outage, the call still ringing after it: still waiting, nothing offered",
        [*THREE_WAITING[:2], (2, [], False), (4, [], False), (6, [queued("c1", "630")], True)],
        7,
        20,
        0,
        {"630": {"waiting": 1, "longest_waiting_since": at(0), "abandoned": 0, "offered": 0}},
    ),
    (
        "PBX outage, the call gone after it: unresolved, neither answered nor abandoned",
        [*THREE_WAITING[:2], (2, [], False), (4, [], False), (6, [], True)],
        7,
        20,
        0,
        {
            "630": {
                "waiting": 0,
                "offered": 1,
                "unresolved": 1,
                "answered": 0,
                "abandoned": 0,
                "service_level": None,
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("polls", "read_at", "sl_seconds", "short", "expected"),
    [case[1:] for case in QUEUE_CASES],
    ids=[case[0] for case in QUEUE_CASES],
)
def test_queue_figures_follow_the_rules(polls, read_at, sl_seconds, short, expected):
    board = queue_figures(play(polls).state, at(read_at), sl_seconds, short_abandon_seconds=short)
    rows = {row.queue: row for row in board.queues} | {"total": board.total}
    got = {
        queue: {name: getattr(rows[queue], name) for name in figures}
        for queue, figures in expected.items()
    }
    assert got == expected


def test_a_queue_asked_for_has_a_row_before_its_first_call():
    board = queue_figures(play([WARM]).state, at(0), 20, queues=["640", "630"])
    assert [row.queue for row in board.queues] == ["630", "640"]
    assert board.queues[0].offered == 0 and board.queues[0].service_level is None


# Seconds from T0 (09:00) to the next local midnight.
MIDNIGHT = 15 * 3600

# (id, polls, read at t, poll_interval, (stale, pbx_ok, age_seconds))
STALE_CASES = [
    ("live", [WARM, (0, [], True)], 1, 2, (False, True, 1.0)),
    ("the PBX failing", [WARM, (0, [], True), (2, [], False)], 3, 2, (True, False, 3.0)),
    ("no poll for three intervals", [WARM, (0, [], True)], 6.5, 2, (True, True, 6.5)),
    ("a slower interval", [WARM, (0, [], True)], 6.5, 5, (False, True, 6.5)),
    ("no good poll yet", [(0, [], False)], 1, 2, (True, False, None)),
]


@pytest.mark.parametrize(
    ("polls", "read_at", "interval", "expected"),
    [case[1:] for case in STALE_CASES],
    ids=[case[0] for case in STALE_CASES],
)
def test_figures_say_when_they_are_stale(polls, read_at, interval, expected):
    state = play(polls, poll_interval=interval).state
    for board in (
        queue_figures(state, at(read_at), 20, poll_interval=interval),
        extension_board(state, at(read_at), poll_interval=interval),
    ):
        staleness = board.staleness
        assert (staleness.stale, staleness.pbx_ok, staleness.age_seconds) == expected


def test_the_stale_board_keeps_the_last_good_figures_and_says_since_when():
    state = play([*THREE_WAITING, (6, [], False), (8, [], False)]).state
    board = queue_figures(state, at(9), 20).to_json()
    assert (board["stale"], board["pbx_ok"], board["age_seconds"]) == (True, False, 5.0)
    assert board["last_ok_at"] == at(4).isoformat()
    assert board["total"]["waiting"] == 3


def board_rows(polls, read_at, extensions=None):
    board = extension_board(play(polls).state, at(read_at), extensions)
    return {
        row.extension: (row.state, row.since, row.party, row.answered, row.talk_at(at(read_at)))
        for row in board.extensions
    }


# (id, polls, read at t, extensions asked for, {extension: (state, since, party, answered, talk)});
# the talk as the browser reads it at t, from the tile's `talk_seconds`, `talk_since`, `talk_calls`
EXTENSION_CASES = [
    (
        "ringing: who calls, since it began ringing; dialling: whom, since the call began",
        [
            WARM,
            (0, [queued("c1", "630"), dialling("c2", "103", FATMA)], True),
            (2, [ringing("c1", "630", "101"), dialling("c2", "103", FATMA)], True),
        ],
        3,
        ["101", "102", "103"],
        {
            "101": ("ringing", at(2), AYSE, 0, 0),
            "102": ("free", None, None, 0, 0),
            "103": ("dialling", at(0), FATMA, 0, 0),
        },
    ),
    (
        "talking: with whom, since the answer; today's talk includes the call on the line",
        [
            WARM,
            (0, [ringing("c1", "630", "101")], True),
            (2, [talking("c1", "630", "101")], True),
            (6, [talking("c1", "630", "101")], True),
        ],
        7,
        ["101"],
        {"101": ("talking", at(2), AYSE, 1, 5)},
    ),
    (
        "free since its last call ended, with today's answered calls and talk time",
        [
            WARM,
            (0, [talking("c1", "630", "101")], True),
            (4, [], True),
            (6, [ringing("c2", None, "101", MEHMET)], True),
            (8, [talking("c2", None, "101", MEHMET)], True),
            (12, [], True),
            (14, [ringing("c3", None, "101", FATMA)], True),
            (16, [], True),  # rang, not answered
        ],
        20,
        ["101"],
        {"101": ("free", at(16), None, 2, 8)},
    ),
    (
        "an outbound call answered by the outside: talk time, not an answered call",
        [
            WARM,
            (0, [dialling("c1", "103", FATMA)], True),
            (2, [talking_out("c1", "103", FATMA)], True),
            (6, [], True),
        ],
        7,
        ["103"],
        {"103": ("free", at(6), None, 0, 4)},
    ),
    (
        "an internal call: the callee answers, both talk",
        [
            WARM,
            (0, [ringing("c1", None, "102", "101")], True),
            (2, [talking("c1", None, "102", "101")], True),
        ],
        5,
        None,
        {"101": ("talking", at(2), "102", 0, 3), "102": ("talking", at(2), "101", 1, 3)},
    ),
    (
        "transferred to another agent: each keeps the talk that was theirs",
        [
            WARM,
            (0, [talking("c1", "630", "101")], True),
            (4, [talking("c1", "630", "102")], True),
            (10, [], True),
        ],
        11,
        ["101", "102"],
        {"101": ("free", at(4), None, 1, 4), "102": ("free", at(10), None, 0, 6)},
    ),
    (
        "talking and a second call ringing: talking shows",
        [
            WARM,
            (0, [talking("c1", None, "101")], True),
            (2, [talking("c1", None, "101"), ringing("c2", "630", "101", MEHMET)], True),
        ],
        3,
        ["101"],
        {"101": ("talking", at(0), AYSE, 1, 3)},
    ),
    (
        "two calls talked on at once: each one's talk counts",
        [
            WARM,
            (0, [talking("c1", None, "101")], True),
            (2, [talking("c1", None, "101"), ringing("c2", "630", "101", MEHMET)], True),
            (4, [talking("c1", None, "101"), talking("c2", "630", "101", MEHMET)], True),
        ],
        7,
        ["101"],
        {"101": ("talking", at(0), AYSE, 2, 7 + 3)},
    ),
    (
        "talking across midnight: today's talk counts from midnight",
        [
            (MIDNIGHT - 4, [talking("c1", None, "101")], True),
            (MIDNIGHT - 2, [talking("c1", None, "101")], True),
            (MIDNIGHT, [talking("c1", None, "101")], True),
        ],
        MIDNIGHT + 5,
        ["101"],
        {"101": ("talking", at(MIDNIGHT - 4), AYSE, 0, 5)},
    ),
    (
        "PBX outage mid-call: talking still, and the talk ends at the last poll that saw it",
        [
            WARM,
            (0, [talking("c1", None, "101")], True),
            (2, [talking("c1", None, "101")], True),
            (4, [], False),
            (20, [], True),
        ],
        21,
        ["101"],
        {"101": ("free", at(2), None, 1, 2)},
    ),
    (
        "every extension seen when none are asked for, never a queue's number",
        [WARM, (0, [queued("c1", "630")], True), (2, [ringing("c1", "630", "101")], True)],
        3,
        None,
        {"101": ("ringing", at(2), AYSE, 0, 0)},
    ),
]


@pytest.mark.parametrize(
    ("polls", "read_at", "extensions", "expected"),
    [case[1:] for case in EXTENSION_CASES],
    ids=[case[0] for case in EXTENSION_CASES],
)
def test_the_extension_board_follows_the_rules(polls, read_at, extensions, expected):
    assert board_rows(polls, read_at, extensions) == expected


def test_the_boards_are_json_for_the_push():
    state = play(ONE_ANSWERED).state
    queues = queue_figures(state, at(7), 20).to_json()
    extensions = extension_board(state, at(7)).to_json()
    assert json.loads(json.dumps(queues))["queues"][0]["longest_waiting_since"] == at(2).isoformat()
    row = json.loads(json.dumps(extensions))["extensions"][0]
    assert row == {
        "extension": "101",
        "state": "talking",
        "since": at(6).isoformat(),
        "party": AYSE,
        "party_display": "0532 123 45 67",
        "queue": "630",
        "call_key": row["call_key"],
        "answered": 1,
        "talk_seconds": 0.0,
        "talk_since": at(6).isoformat(),
        "talk_calls": 1,
    }


def test_a_talking_tile_stays_the_same_from_poll_to_poll():
    """So its text is encoded once: the browser ticks the talk from `talk_since`."""
    played = play(ONE_ANSWERED)
    before = extension_board(played.state, at(7)).extensions
    played = play([(8, [talking("c1", "630", "101")], True)], start=played)
    assert extension_board(played.state, at(9)).extensions == before


def test_the_cdr_correction_replaces_the_counts_and_keeps_the_calls_still_talking():
    played = play([*ONE_ANSWERED, (8, [talking("c1", "630", "101")], True)])
    state = played.state  # live: answered 1 (c1, talking), abandoned 2, waits measured
    corrected = with_cdr_counts(
        state,
        {"630": QueueCounts(offered=9, answered=7, abandoned=2)},
        day_start=state.day_start,
        now=at(9),
    )
    row = queue_figures(corrected, at(9), 20).queues[0]
    # The CDR's 9 (c1's row comes when it ends) and c1, on the line: counted once.
    assert (row.offered, row.answered, row.abandoned, row.unresolved) == (10, 8, 2, 0)
    assert row.corrected_at == at(9)
    assert row.average_answer_wait == 6.0  # the waits stay the polls' measure
    assert queue_figures(state, at(9), 20).queues[0].offered == 3  # the state given is unchanged


def test_a_cdr_correction_for_another_day_changes_nothing():
    state = play(ONE_ANSWERED).state
    yesterday = state.day_start - timedelta(days=1)
    counts = {"630": QueueCounts(offered=9, answered=7, abandoned=2)}
    assert with_cdr_counts(state, counts, day_start=yesterday, now=at(9)) is state


def test_each_queue_has_its_own_service_level_threshold_and_the_total_follows_each():
    """630 answers within its 10 s, 631's 6 s wait misses its 5 s: the total is 1 of 2."""
    polls = [
        WARM,
        (0, [queued("c1", "630"), queued("c2", "631", MEHMET)], True),
        (6, [talking("c1", "630", "101"), talking("c2", "631", "102", MEHMET)], True),
    ]
    board = queue_figures(play(polls).state, at(7), 20, sl_by_queue={"630": 10, "631": 5})
    levels = {row.queue: row.service_level for row in board.queues}
    assert levels == {"630": 100.0, "631": 0.0}
    assert (board.total.answered_within_sl, board.total.service_level) == (1, 50.0)
