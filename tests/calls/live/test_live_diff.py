"""The diff between two polls: added / changed / removed by channel; ticking time is no change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from calls.live.diff import (
    CustomerMatch,
    LiveCall,
    diff_calls,
    direction_of,
    is_ringing,
    is_talking,
    queue_of,
    to_live_call,
)
from calls.live.payloads import call_payload, live_call
from calls.pbx import MAX_ELAPSED_SECONDS, ActiveCall, Direction

T0 = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
AYSE = CustomerMatch(id=1, name="Ayşe Yılmaz", company="Yılmaz Tekstil", url="/admin/1/")


def active(channel="SIP/trunk-1", src="905321234567", dst="110", **fields) -> ActiveCall:
    defaults = {"calltype": "Kuyruk(630)", "callinfo": "Çalıyor", "elapsed": 5}
    return ActiveCall(channel=channel, src=src, dst=dst, **{**defaults, **fields})


def first_poll(*calls: ActiveCall, now=T0) -> dict[str, LiveCall]:
    return diff_calls({}, list(calls), now).calls


def test_a_new_call_is_added_with_its_start_derived_from_the_elapsed_time():
    diff = diff_calls({}, [active(elapsed=74)], T0)
    assert [c.channel for c in diff.added] == ["SIP/trunk-1"]
    assert diff.added[0].started_at == T0 - timedelta(seconds=74)
    assert diff.changed == [] and diff.removed == []


def test_ticking_duration_alone_changes_nothing():
    previous = first_poll(active(elapsed=5))
    diff = diff_calls(previous, [active(elapsed=7)], T0 + timedelta(seconds=2))
    assert (diff.added, diff.changed, diff.removed) == ([], [], [])
    assert diff.calls["SIP/trunk-1"].started_at == T0 - timedelta(seconds=5)


def test_a_garbled_duration_is_read_as_just_started():
    diff = diff_calls({}, [active(elapsed=None)], T0)
    assert diff.added[0].started_at == T0


@pytest.mark.parametrize(
    ("elapsed", "started_at"),
    [
        (-5, T0),  # a start in the future would tick backwards
        (10**15, T0 - timedelta(seconds=MAX_ELAPSED_SECONDS)),  # would overflow the calendar
    ],
)
def test_an_impossible_elapsed_time_keeps_the_start_within_bounds(elapsed, started_at):
    diff = diff_calls({}, [active(elapsed=elapsed)], T0)
    assert diff.added[0].started_at == started_at


@pytest.mark.parametrize(
    "change",
    [
        {"callinfo": "Konuşuyor"},
        {"calltype": "Kuyruk(631)"},
        {"dst": "111"},
        {"src": "905329999999"},
    ],
)
def test_a_change_of_state_type_or_party_is_a_change(change):
    previous = first_poll(active())
    diff = diff_calls(previous, [active(elapsed=30, **change)], T0 + timedelta(seconds=25))
    assert [c.channel for c in diff.changed] == ["SIP/trunk-1"]
    changed = diff.changed[0]
    for name, value in change.items():
        assert getattr(changed, name) == value
    assert changed.started_at == T0 - timedelta(seconds=5)  # the start never moves


def test_a_change_keeps_the_customer_while_the_outside_party_stays():
    previous = {"SIP/trunk-1": replace(first_poll(active())["SIP/trunk-1"], customer=AYSE)}
    diff = diff_calls(previous, [active(callinfo="Konuşuyor")], T0)
    assert diff.changed[0].customer == AYSE
    assert diff.numbers_to_match() == set()


def test_a_new_outside_party_drops_the_customer_for_a_fresh_match():
    previous = {"SIP/trunk-1": replace(first_poll(active())["SIP/trunk-1"], customer=AYSE)}
    diff = diff_calls(previous, [active(src="905329999999")], T0)
    assert diff.changed[0].customer is None
    assert diff.numbers_to_match() == {"905329999999"}


def test_an_ended_call_is_removed():
    previous = first_poll(active("SIP/a"), active("SIP/b", src="905441112233"))
    diff = diff_calls(previous, [active("SIP/b", src="905441112233")], T0)
    assert diff.removed == ["SIP/a"]
    assert list(diff.calls) == ["SIP/b"]


def test_an_empty_answer_removes_every_call():
    previous = first_poll(active("SIP/a"), active("SIP/b"))
    diff = diff_calls(previous, [], T0)
    assert sorted(diff.removed) == ["SIP/a", "SIP/b"]
    assert diff.calls == {}


def test_a_channel_listed_twice_counts_once():
    diff = diff_calls({}, [active(callinfo="Çalıyor"), active(callinfo="Konuşuyor")], T0)
    assert len(diff.added) == 1
    assert diff.added[0].callinfo == "Konuşuyor"


def test_a_known_call_that_gains_a_customer_becomes_a_change():
    previous = first_poll(active("SIP/a"), active("SIP/b", src="905441112233"))
    diff = diff_calls(previous, [active("SIP/a"), active("SIP/b", src="905441112233")], T0)
    assert diff.numbers_to_match() == set()
    assert diff.numbers_to_match(all_unknown=True) == {"905321234567", "905441112233"}
    matched = diff.with_customers({"905321234567": AYSE})
    assert [(c.channel, c.customer) for c in matched.changed] == [("SIP/a", AYSE)]
    assert matched.added == []


def test_customers_attach_to_added_calls_by_their_outside_number():
    diff = diff_calls({}, [active(), active("SIP/101-1", src="101", dst="905321234567")], T0)
    assert diff.numbers_to_match() == {"905321234567"}
    matched = diff.with_customers({"905321234567": AYSE})
    assert [c.customer for c in matched.added] == [AYSE, AYSE]
    assert matched.calls["SIP/trunk-1"].customer == AYSE


@pytest.mark.parametrize(
    ("src", "dst", "direction"),
    [
        ("905321234567", "110", Direction.IN),
        ("101", "905321234567", Direction.OUT),
        ("101", "102", Direction.INTERNAL),
        ("02125551234", "630", Direction.IN),
        ("442071234567", "110", Direction.IN),
        ("", "110", Direction.IN),  # withheld caller
        ("anonymous", "110", Direction.IN),
    ],
)
def test_direction_follows_which_party_has_a_phone_number(src, dst, direction):
    assert direction_of(src, dst) is direction


@pytest.mark.parametrize(
    ("calltype", "queue"),
    [("Kuyruk(630)", "630"), ("kuyruk ( 12 )", "12"), ("Gelen Arama", None), ("", None)],
)
def test_the_queue_is_read_from_the_call_type(calltype, queue):
    assert queue_of(calltype) == queue


def test_a_call_survives_the_round_trip_through_its_payload():
    call = replace(first_poll(active())["SIP/trunk-1"], customer=AYSE)
    payload = call_payload(call)
    assert payload["src_display"] == "0532 123 45 67"
    assert payload["dst_display"] == "110"
    assert payload["queue"] == "630"
    assert payload["direction"] == "in"
    assert live_call(payload) == call


@pytest.mark.parametrize(
    ("callinfo", "ringing"),
    [
        ("Çalıyor", True),
        ("ÇALIYOR", True),
        ("Caliyor", False),
        ("calıyor", False),
        ("çaliyor", True),
        ("Ringing", True),
        ("Konuşuyor", False),
        ("Beklemede", False),
        ("", False),
    ],
)
def test_ringing_is_decided_from_the_pbx_call_state_in_either_language(callinfo, ringing):
    call = first_poll(active(callinfo=callinfo))["SIP/trunk-1"]
    assert is_ringing(callinfo) is ringing
    assert call.ringing is ringing
    assert call_payload(call)["ringing"] is ringing


@pytest.mark.parametrize(
    ("callinfo", "talking"),
    [
        ("Konuşuyor", True),
        ("KONUŞUYOR", True),
        ("Konusuyor", True),  # without Turkish letters
        ("Talking", True),
        ("Çalıyor", False),
        ("Kuyrukta", False),
        ("Beklemede", False),  # on hold, but also "waiting": not read as an answer
        ("", False),
    ],
)
def test_talking_is_decided_from_the_pbx_call_state_in_either_language(callinfo, talking):
    assert is_talking(callinfo) is talking


def test_a_state_change_keeps_what_was_read_of_the_parties_and_equals_a_fresh_reading():
    before = replace(first_poll(active())["SIP/trunk-1"], customer=AYSE)
    answered = active(callinfo="Konuşuyor", calltype="Kuyruk(631)", elapsed=40)
    [call] = diff_calls({before.channel: before}, [answered], T0 + timedelta(seconds=30)).changed
    fresh = to_live_call(answered, T0 + timedelta(seconds=30), before.key)
    assert call == replace(fresh, started_at=before.started_at, customer=AYSE)
    assert (call.queue, call.ringing) == ("631", False)


@pytest.mark.parametrize(
    "change",
    [{}, {"callinfo": "Konuşuyor"}, {"dst": "111"}, {"src": "905329999999"}],
    ids=["ticking", "state", "callee", "caller"],
)
def test_a_call_keeps_the_key_of_its_first_poll_whatever_changes(change):
    previous = first_poll(active())
    diff = diff_calls(previous, [active(elapsed=30, **change)], T0 + timedelta(seconds=25))
    assert diff.calls["SIP/trunk-1"].key == previous["SIP/trunk-1"].key


def test_every_new_call_gets_a_key_of_its_own():
    calls = first_poll(*(active(channel=f"SIP/trunk-{n}") for n in range(50)))
    keys = {call.key for call in calls.values()}
    assert len(keys) == 50
    assert all(len(key) == 32 and int(key, 16) >= 0 for key in keys)  # uuid4 hex


def test_a_call_seen_anew_can_be_given_back_the_key_it_had():
    diff = diff_calls({}, [active(channel="SIP/a"), active(channel="SIP/b")], T0)
    given = diff.with_keys({"SIP/a": "a" * 32})
    assert [c.key for c in given.added] == ["a" * 32, diff.calls["SIP/b"].key]
    assert given.calls["SIP/a"].key == "a" * 32
