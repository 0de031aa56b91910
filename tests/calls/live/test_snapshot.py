"""The stored live state: what is written reads back the same, however it was written, and a poll
re-encodes only the calls that are new or changed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from calls.live import payloads, snapshot
from calls.live.diff import CustomerMatch, diff_calls
from calls.live.snapshot import SNAPSHOT_KEY, LiveState, read_snapshot, save_state
from calls.pbx import ActiveCall

pytestmark = pytest.mark.usefixtures("live_redis")

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AYSE = CustomerMatch(id=7, name="Ayşe Yılmaz", company="Yılmaz Tekstil A.Ş.", url="/c/7/", more=1)
OK = {"ok": True, "last_ok_at": T0.isoformat(), "error": None, "reason": None}


def pbx_answer(count: int = 3, callinfo: str = "Konuşuyor") -> list[ActiveCall]:
    return [
        ActiveCall(f"SIP/trunk-{n}", f"90532123{n:04d}", "110", "Kuyruk(630)", callinfo, 30)
        for n in range(count)
    ]


def stored_state(count: int = 3) -> LiveState:
    calls = diff_calls({}, pbx_answer(count), T0).calls
    first = next(iter(calls))
    calls[first] = replace(calls[first], customer=AYSE)
    return LiveState(run="3f9c0a1b2d4e", seq=41, at=T0.isoformat(), calls=calls, pbx=OK)


@pytest.fixture(autouse=True)
def fresh_process():
    """Each test starts as a process that has stored and read nothing yet."""
    snapshot.forget_remembered_state()


@pytest.fixture
def encodings(monkeypatch) -> list[str]:
    """The channels of the calls encoded from here on."""
    encoded: list[str] = []
    encode_call = payloads.encode_call

    def counting(call):
        encoded.append(call.channel)
        return encode_call(call)

    monkeypatch.setattr(payloads, "encode_call", counting)
    return encoded


def test_the_spliced_messages_are_the_encoded_messages():
    state = stored_state()
    calls = list(state.calls.values())
    texts = [payloads.encode_call(call) for call in calls]
    run, seq, at, pbx = state.run, state.seq, state.at, state.pbx
    assert payloads.snapshot_text(run, seq, at, texts, pbx) == payloads.encode(
        payloads.snapshot_message(run, seq, at, calls, pbx)
    )
    assert payloads.diff_text(run, seq, at, texts[:1], texts[1:], ["SIP/gone"], pbx) == (
        payloads.encode(
            payloads.diff_message(run, seq, at, calls[:1], calls[1:], ["SIP/gone"], pbx)
        )
    )
    assert payloads.snapshot_text("", 0, None, [], {}) == payloads.encode(
        payloads.snapshot_message("", 0, None, [], {})
    )


def test_what_is_stored_reads_back_the_same_in_this_process_and_in_another():
    state = stored_state()
    save_state(state)
    assert read_snapshot() == state
    snapshot.forget_remembered_state()
    assert read_snapshot() == state
    assert json.loads(snapshot.load_snapshot_text()) == state.message()


def test_nothing_is_stored_before_the_first_poll_or_after_redis_lost_it(live_redis):
    assert read_snapshot() is None
    save_state(stored_state())
    live_redis.delete(SNAPSHOT_KEY)
    assert read_snapshot() is None


def test_a_poll_encodes_only_its_new_and_changed_calls(encodings):
    state = stored_state(5)
    save_state(state)
    assert len(encodings) == 5
    encodings.clear()
    answer = pbx_answer(5)
    answer[1] = replace(answer[1], callinfo="Beklemede")
    answer[4] = ActiveCall("SIP/trunk-new", "905559998877", "111", "", "Çalıyor", 0)
    diff = diff_calls(read_snapshot().calls, answer, T0 + timedelta(seconds=2))
    texts = save_state(replace(state, seq=42, calls=diff.calls))
    assert sorted(encodings) == ["SIP/trunk-1", "SIP/trunk-new"]
    assert set(texts) == set(diff.calls)
    assert json.loads(texts["SIP/trunk-new"]) == payloads.call_payload(diff.calls["SIP/trunk-new"])


def test_a_state_another_process_stored_is_cut_into_its_calls_not_encoded_again(encodings):
    state = stored_state(4)
    save_state(state)
    snapshot.forget_remembered_state()
    encodings.clear()
    before = snapshot.load_snapshot_text()
    save_state(replace(read_snapshot(), seq=42))
    assert encodings == []
    assert snapshot.load_snapshot_text() == before.replace('"seq":41', '"seq":42')


def test_a_copy_written_with_other_json_spacing_reads_back_and_is_stored_as_valid_json(
    live_redis,
):
    state = stored_state()
    live_redis.set(SNAPSHOT_KEY, json.dumps(state.message(), indent=2))  # a restored backup
    assert read_snapshot() == state
    save_state(replace(read_snapshot(), seq=42))
    assert json.loads(snapshot.load_snapshot_text()) == replace(state, seq=42).message()


def test_a_call_stored_without_a_field_this_version_sends_is_encoded_anew(live_redis, encodings):
    state = stored_state(2)
    older = state.message()
    for call in older["calls"]:
        del call["ringing"]  # as a version before the field stored it
    live_redis.set(SNAPSHOT_KEY, payloads.encode(older))
    save_state(replace(read_snapshot(), seq=42))
    assert sorted(encodings) == sorted(state.calls)
    assert all("ringing" in call for call in json.loads(snapshot.load_snapshot_text())["calls"])


def test_calls_stored_before_calls_had_keys_get_one_that_the_next_poll_keeps(live_redis):
    older = stored_state(2).message()
    for call in older["calls"]:
        del call["key"]  # as a version before keys stored it
    live_redis.set(SNAPSHOT_KEY, payloads.encode(older))
    state = read_snapshot()
    keys = {channel: call.key for channel, call in state.calls.items()}
    assert len(set(keys.values())) == 2
    save_state(replace(state, seq=42))
    snapshot.forget_remembered_state()  # as another process reads it
    assert {channel: call.key for channel, call in read_snapshot().calls.items()} == keys


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"run": "r", "seq": 1', '{"run":"r","seq":1,"calls":[{"channel":"x"}'],
)
def test_a_garbled_snapshot_is_an_error_not_an_empty_state(live_redis, text):
    live_redis.set(SNAPSHOT_KEY, text or " ")
    with pytest.raises((ValueError, KeyError)):
        read_snapshot()
