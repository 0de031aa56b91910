"""Property tests of the diff between polls (`calls.live.diff.diff_calls`) over random poll
sequences.

Invariants, for every poll of every sequence:
- applying `added`, `changed` and `removed` to the previous view gives exactly the new calls, one
  per channel the PBX listed, with the fields of that channel's last row;
- a call is never both added and removed (nor added and changed, nor changed and removed);
- a call's start time never moves once seen; a new call starts its elapsed time before now;
- the PBX's ticking durations alone are no change;
- what is stored (`call_payload`) reads back (`live_call`) as the same call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.live.diff import (
    WATCHED_FIELDS,
    CallsDiff,
    CustomerMatch,
    LiveCall,
    diff_calls,
)
from calls.live.payloads import call_payload, live_call
from calls.pbx import MAX_ELAPSED_SECONDS, ActiveCall

settings.register_profile(
    "telsam-diff",
    max_examples=120,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("telsam-diff")
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

# A small pool of channels, so that calls persist, change and end across polls.
channels = st.sampled_from([f"SIP/trunk-sip-Trunk110-{n:05x}" for n in range(6)] + ["SIP/101-1"])
numbers = st.one_of(
    st.sampled_from(
        ["905321234567", "905559998877", "902161112233", "110", "111", "", "anonymous"]
    ),
    st.text(max_size=15),
)
calltypes = st.one_of(
    st.sampled_from(["Kuyruk(630)", "Kuyruk(631)", "Gelen Arama", "Dış Arama", "Dahili", ""]),
    st.text(max_size=15),
)
callinfos = st.sampled_from(["Çalıyor", "Konuşuyor", "Beklemede", "Kuyrukta", ""])
elapsed = st.one_of(
    st.none(),
    st.integers(0, 4 * 3600),
    st.integers(-(10**6), 10**15),  # not from our parser, but the diff must not overflow either
)
active_calls = st.builds(
    ActiveCall,
    channel=channels,
    src=numbers,
    dst=numbers,
    calltype=calltypes,
    callinfo=callinfos,
    elapsed=elapsed,
)
polls = st.lists(st.lists(active_calls, max_size=8), min_size=1, max_size=6)
gaps = st.lists(st.integers(1, 120), min_size=6, max_size=6)  # seconds between polls


def apply(previous: dict[str, LiveCall], diff: CallsDiff) -> dict[str, LiveCall]:
    """What a browser does with a diff."""
    view = {channel: call for channel, call in previous.items() if channel not in diff.removed}
    for call in diff.added + diff.changed:
        view[call.channel] = call
    return view


def last_rows(fetched: list[ActiveCall]) -> dict[str, ActiveCall]:
    return {call.channel: call for call in fetched}


def expected_start(call: ActiveCall, now: datetime) -> datetime:
    return now - timedelta(seconds=min(max(call.elapsed or 0, 0), MAX_ELAPSED_SECONDS))


def run(sequence: list[list[ActiveCall]], gaps: list[int]):
    """Each poll's (previous view, what the PBX sent, when, the diff)."""
    view: dict[str, LiveCall] = {}
    now = T0
    for fetched, gap in zip(sequence, gaps, strict=False):
        now += timedelta(seconds=gap)
        diff = diff_calls(view, fetched, now)
        yield view, fetched, now, diff
        view = diff.calls


@PROFILE
@given(polls, gaps)
def test_applying_a_diff_to_the_previous_view_gives_exactly_the_new_calls(sequence, gaps):
    for previous, fetched, _, diff in run(sequence, gaps):
        assert apply(previous, diff) == diff.calls
        latest = last_rows(fetched)
        assert set(diff.calls) == set(latest)
        for channel, call in diff.calls.items():
            for name in WATCHED_FIELDS:
                assert getattr(call, name) == getattr(latest[channel], name)


@PROFILE
@given(polls, gaps)
def test_a_call_is_added_changed_or_removed_at_most_once_per_poll(sequence, gaps):
    for previous, fetched, _, diff in run(sequence, gaps):
        added = [call.channel for call in diff.added]
        changed = [call.channel for call in diff.changed]
        for names in (added, changed, diff.removed):
            assert len(names) == len(set(names))
        assert not set(added) & set(diff.removed)
        assert not set(added) & set(changed)
        assert not set(changed) & set(diff.removed)
        assert not set(added) & set(previous)
        assert set(changed) <= set(previous)
        assert set(diff.removed) == set(previous) - set(last_rows(fetched))


@PROFILE
@given(polls, gaps)
def test_start_times_are_derived_once_and_never_move(sequence, gaps):
    started: dict[str, datetime] = {}
    for _, fetched, now, diff in run(sequence, gaps):
        latest = last_rows(fetched)
        for call in diff.added:
            assert call.started_at == expected_start(latest[call.channel], now)
        for channel, call in diff.calls.items():
            assert call.started_at == started.setdefault(channel, call.started_at)
            assert call.started_at <= now
        for channel in diff.removed:
            del started[channel]


@PROFILE
@given(polls, gaps, st.lists(elapsed, min_size=8, max_size=8), st.integers(1, 3600))
def test_ticking_durations_alone_are_no_change(sequence, gaps, new_elapsed, later):
    for _, fetched, now, diff in run(sequence, gaps):
        ticked = [replace(call, elapsed=e) for call, e in zip(fetched, new_elapsed, strict=False)]
        again = diff_calls(diff.calls, ticked, now + timedelta(seconds=later))
        assert (again.added, again.changed, again.removed) == ([], [], [])
        assert again.calls == diff.calls


@PROFILE
@given(polls, gaps, st.sets(numbers, max_size=4))
def test_customers_attach_without_breaking_the_diff(sequence, gaps, known):
    customer = CustomerMatch(id=1, name="Ayşe Yılmaz", company="", url="/admin/1/")
    matches = dict.fromkeys(known, customer)
    view: dict[str, LiveCall] = {}
    now = T0
    for fetched, gap in zip(sequence, gaps, strict=False):
        now += timedelta(seconds=gap)
        plain = diff_calls(view, fetched, now)
        diff = plain.with_customers(matches)
        assert apply(view, diff) == diff.calls
        assert set(diff.calls) == set(plain.calls)
        gained = {
            channel
            for channel, call in diff.calls.items()
            if call.customer is not None and plain.calls[channel].customer is None
        }
        assert gained <= {call.channel for call in diff.added + diff.changed}
        view = diff.calls


@PROFILE
@given(polls, gaps)
def test_a_stored_call_reads_back_as_the_same_call(sequence, gaps):
    for _, _, _, diff in run(sequence, gaps):
        for call in diff.calls.values():
            assert live_call(call_payload(call)) == call
