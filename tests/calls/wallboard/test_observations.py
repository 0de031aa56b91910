"""What poll sequences mean for each call: waiting, answered, abandoned, gaps, the day's end."""

from __future__ import annotations

from dataclasses import replace

import pytest

from calls.wallboard import WallboardState, observe
from calls.wallboard.state import call_json, whole_seconds
from tests.support.wallboard_polls import (
    FATMA,
    IST,
    MEHMET,
    T0,
    at,
    dialling,
    play,
    queued,
    ringing,
    talking,
)

# The polls were running before each case begins (a good poll two seconds before it), unless the
# case is about the very first poll.
WARM = (-2, [], True)

# (id, polls, {channel: (outcome, wait, talk seconds, uncertain, ended at t)})
FINISHED_CASES = [
    (
        "left while waiting: abandoned, waited until the first poll that no longer saw it",
        [(0, [queued("c1", "630")], True), (2, [queued("c1", "630")], True), (4, [], True)],
        {"c1": ("abandoned", 4, 0, False, 4)},
    ),
    (
        "left while ringing an agent: abandoned all the same",
        [(0, [queued("c1", "630")], True), (2, [ringing("c1", "630", "101")], True), (4, [], True)],
        {"c1": ("abandoned", 4, 0, False, 4)},
    ),
    (
        "answered: waited until the first poll that saw it talking, talked until it left",
        [
            (0, [queued("c1", "630")], True),
            (2, [ringing("c1", "630", "101")], True),
            (4, [talking("c1", "630", "101")], True),
            (10, [talking("c1", "630", "101")], True),
            (12, [], True),
        ],
        {"c1": ("answered", 4, 8, False, 12)},
    ),
    (
        "answered before the first poll saw it: a wait of 0",
        [(0, [], True), (2, [talking("c1", "630", "101")], True), (4, [], True)],
        {"c1": ("answered", 0, 2, False, 4)},
    ),
    (
        "a late poll within three intervals is no gap",
        [(0, [queued("c1", "630")], True), (6, [], True)],
        {"c1": ("abandoned", 6, 0, False, 6)},
    ),
    (
        "moved to another queue while waiting: counted once, in the last, waited from the first",
        [
            (0, [queued("c1", "630")], True),
            (2, [queued("c1", "640")], True),
            (4, [talking("c1", "640", "102")], True),
            (6, [], True),
        ],
        {"c1": ("answered", 4, 2, False, 6)},
    ),
    (
        "out of the queue's calltype unanswered (an IVR): still waiting in the queue it left",
        [
            (0, [queued("c1", "630")], True),
            (2, [ringing("c1", None, "101")], True),
            (4, [], True),
        ],
        {"c1": ("abandoned", 4, 0, False, 4)},
    ),
    (
        "in no queue: ended, no wait",
        [
            (0, [ringing("c1", None, "101")], True),
            (2, [talking("c1", None, "101")], True),
            (6, [], True),
        ],
        {"c1": ("ended", None, 4, False, 6)},
    ),
    (
        "outage while waiting, still waiting after it: its wait goes on, measured",
        [
            (0, [queued("c1", "630")], True),
            (2, [], False),
            (4, [], False),
            (6, [queued("c1", "630")], True),
            (8, [talking("c1", "630", "101")], True),
            (10, [], True),
        ],
        {"c1": ("answered", 8, 2, False, 10)},
    ),
    (
        "outage while waiting, gone after it: unresolved, ended at the last poll that saw it",
        [(0, [queued("c1", "630")], True), (2, [], False), (4, [], False), (6, [], True)],
        {"c1": ("unresolved", None, 0, True, 0)},
    ),
    (
        "outage while waiting, talking after it: answered, the wait not measured",
        [
            (0, [queued("c1", "630")], True),
            (2, [], False),
            (4, [talking("c1", "630", "101")], True),
            (6, [], True),
        ],
        {"c1": ("answered", None, 2, True, 6)},
    ),
    (
        "outage while talking, gone after it: the talk ends at the last poll that saw it",
        [
            (0, [queued("c1", "630")], True),
            (2, [talking("c1", "630", "101")], True),
            (4, [talking("c1", "630", "101")], True),
            (6, [], False),
            (30, [], True),
        ],
        {"c1": ("answered", 2, 2, True, 4)},
    ),
    (
        "no poll for more than three intervals (poller stopped) is a gap like an outage",
        [(0, [queued("c1", "630")], True), (8, [], True)],
        {"c1": ("unresolved", None, 0, True, 0)},
    ),
    (
        "first seen after a gap, waiting: its start unknown, so its wait is not measured",
        [
            (0, [], True),
            (2, [], False),
            (4, [queued("c1", "630")], True),
            (6, [], True),
        ],
        {"c1": ("abandoned", None, 0, True, 6)},
    ),
    (
        "first seen at the very first poll: as after a gap",
        [(0, [queued("c1", "630")], True), (2, [talking("c1", "630", "101")], True), (4, [], True)],
        {"c1": ("answered", None, 2, True, 4)},
        "no warm-up",
    ),
]


@pytest.mark.parametrize(
    ("polls", "expected"),
    [(case[1] if "no warm-up" in case else [WARM, *case[1]], case[2]) for case in FINISHED_CASES],
    ids=[case[0] for case in FINISHED_CASES],
)
def test_each_call_is_counted_by_the_rule(polls, expected):
    played = play(polls)
    finished = {
        channel: (
            call.outcome,
            call.wait_seconds,
            call.talk_seconds,
            call.uncertain,
            (call.ended_at - T0).total_seconds(),
        )
        for channel, call in played.finished_by_channel().items()
    }
    assert finished == expected
    assert played.state.calls == {}  # finished calls are dropped: the state stays bounded


def stored(state: WallboardState) -> tuple[str, list[str]]:
    return state.counters_json(), [call_json(call) for call in state.calls.values()]


def test_a_failed_poll_changes_no_call_and_leaves_the_given_state_alone():
    before = play([WARM, (0, [queued("c1", "630")], True)]).state
    text = stored(before)
    after = observe(before, at(2), [], pbx_ok=False, tz=IST).state
    assert stored(before) == text
    assert after.calls == before.calls and after.queues == before.queues
    assert (after.pbx_ok, after.last_ok_at, after.last_poll_at) == (False, at(0), at(2))


def test_the_state_survives_its_json_form():
    played = play(
        [
            WARM,
            (0, [queued("c1", "630"), queued("c2", "630", src=MEHMET)], True),
            (2, [talking("c1", "630", "101"), dialling("c3", "102", MEHMET)], True),
            (4, [talking("c1", "630", "101")], True),
            (6, [], False),
        ]
    )
    counters, calls = stored(played.state)
    assert WallboardState.from_json(counters, calls) == played.state
    assert stored(WallboardState.from_json(counters.encode(), [c.encode() for c in calls])) == (
        counters,
        calls,
    )


@pytest.mark.parametrize(
    ("counters", "calls"),
    [('{"version": 99}', []), ('{"version": 2}', []), ("[]", []), ('{"version": 3}', ["3"])],
)
def test_a_state_of_another_version_or_shape_is_refused(counters, calls):
    with pytest.raises(ValueError):
        WallboardState.from_json(counters, calls)


def test_a_poll_tells_which_calls_it_added_or_changed_and_may_work_in_place():
    played = play([WARM, (0, [queued("c1", "630"), queued("c2", "630", src=MEHMET)], True)])
    state, c1 = played.state, played.live["c1"]
    # c1 answered by 101, c2 still waiting as it was, c3 new.
    answered = replace(c1, dst="101", callinfo="Konuşuyor")
    c3 = replace(played.live["c2"], channel="c3", key="k3", src=FATMA)
    observed = observe(
        state, at(2), [answered, played.live["c2"], c3], pbx_ok=True, tz=IST, in_place=True
    )
    assert observed.state is state
    assert sorted(observed.changed) == sorted([c1.key, "k3"])
    left = observe(state, at(4), [c3], pbx_ok=True, tz=IST)
    assert left.state is not state and left.changed == []
    assert {call.key for call in left.finished} == {c1.key, played.live["c2"].key}


def test_at_local_midnight_the_counters_start_again_and_the_calls_on_the_line_stay():
    midnight = 15 * 3600  # seconds from T0 (1 December, 09:00 Istanbul) to 2 December 00:00
    played = play(
        [
            WARM,
            (0, [queued("c1", "630")], True),
            (2, [], True),  # abandoned on 1 December
            (midnight - 12, [], True),
            (midnight - 10, [queued("c2", "630"), talking("c3", None, "101")], True),
            (midnight - 6, [queued("c2", "630"), talking("c3", None, "101")], True),
            (midnight - 2, [queued("c2", "630"), talking("c3", None, "101")], True),
            (midnight + 2, [talking("c2", "630", "102"), talking("c3", None, "101")], True),
            (midnight + 4, [talking("c2", "630", "102")], True),
        ]
    )
    state = played.state
    assert state.day_start.isoformat() == "2026-12-02T00:00:00+03:00"
    day = state.queues["630"]
    # c2 waited across midnight: counted on the day its wait ended, with its whole wait.
    assert (day.answered, day.abandoned, dict(day.answered_waits)) == (1, 0, {12: 1})
    # c3's talk before midnight was the day before's: 4 s of it are today's.
    assert state.extensions["101"].talk_seconds == 4
    assert set(state.calls) == {played.keys["c2"]}


def test_a_wait_is_counted_in_whole_seconds_to_the_nearest():
    assert [whole_seconds(s) for s in (0, 0.49, 0.5, 19.996, 20.004, 20.5)] == [0, 0, 1, 20, 20, 21]
