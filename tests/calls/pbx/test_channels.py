"""What can name a channel: one rule for the calls the PBX lists and the hang-ups the panel asks.

A channel is handed back to the PBX to end its call, so the panel shows a call only under the
channel the PBX gave it, exactly; one the panel could only keep by altering it is refused in the
PBX's answer and in a hang-up request alike.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.live.poll import poll_active_calls
from calls.live.snapshot import read_snapshot
from calls.models import HangupAttempt
from calls.pbx import MAX_CHANNEL_CHARS, is_valid_channel, printable_channel
from calls.pbx.answers import parse_active_call

URL = reverse("calls:hangup")
AYSE = "905321234567"
OTHER = "905559998877"
TALKING = "Konuşuyor"
# Channels no Asterisk names, which a garbled PBX answer could still hold.
ODD_CHANNELS = [
    "SIP/110\t-00000001",  # a control character
    "SIP/110-00000002\x85",  # a C1 control character (NEL)
    " SIP/110-00000003",  # white space at an end
    "SIP/110-00000004\u2003",
]
REAL_CHANNELS = [
    "SIP/110-0000002a",
    "SIP/trunk-sip-Trunk110-36a9b",
    "Local/110@from-internal-00a1;1",
    "SIP/110 1+2;3",
    "Kanal/çağrı-ü",
    "S" * MAX_CHANNEL_CHARS,
]
NO_CHANNELS = [
    "",
    "   ",
    "S" * (MAX_CHANNEL_CHARS + 1),
    "SIP/110-1\x00",
    "SIP/110-1\naction=cdr",
    "\x7f",
    "SIP/110-\ud800",
    *ODD_CHANNELS,
]


@pytest.mark.parametrize("channel", REAL_CHANNELS)
def test_it_takes_a_real_channel_as_the_pbx_sent_it(channel):
    assert is_valid_channel(channel)
    assert parse_active_call({"channel": channel}).channel == channel


@pytest.mark.parametrize("channel", NO_CHANNELS, ids=repr)
def test_it_refuses_what_it_could_only_keep_by_altering(channel):
    assert not is_valid_channel(channel)
    with pytest.raises(ValueError):
        parse_active_call({"channel": channel})


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.text(
        st.one_of(st.characters(), st.sampled_from(" \t\n\x00\x7f\x85\u2003\ud800")),
        max_size=MAX_CHANNEL_CHARS + 5,
    )
)
def test_the_pbx_s_answers_and_hang_ups_take_the_same_channels(text):
    try:
        call = parse_active_call({"channel": text})
    except ValueError:
        assert not is_valid_channel(text)
    else:
        assert call.channel == text
        assert is_valid_channel(text)


@pytest.mark.parametrize("channel", NO_CHANNELS, ids=repr)
def test_it_records_any_text_given_as_a_channel_fit_for_the_audit_trail(channel):
    recorded = printable_channel(channel)
    assert len(recorded) <= MAX_CHANNEL_CHARS
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in recorded)
    recorded.encode("utf-8")  # no lone surrogates


@pytest.fixture
def supervisor(sam) -> Client:
    client = Client()
    client.force_login(sam)
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("live_redis")
@pytest.mark.parametrize("odd", ODD_CHANNELS, ids=repr)
def test_every_call_the_panel_shows_can_be_hung_up_by_its_channel(pbx_settings, supervisor, odd):
    sim = pbx_settings.sim
    sim.add_call(AYSE, "110", callinfo=TALKING, channel=odd)
    sim.add_call(OTHER, "111", callinfo=TALKING)
    listed = {row["channel"] for row in sim.active_calls()}
    poll_active_calls()

    shown = set(read_snapshot().calls)
    assert shown
    for channel in shown:
        response = supervisor.post(URL, {"channel": channel})
        assert (response.status_code, response.json()) == (200, {"ok": True})
    assert shown <= listed  # under the PBX's own channel, or not at all


@pytest.mark.django_db
@pytest.mark.usefixtures("live_redis")
@pytest.mark.parametrize("odd", ODD_CHANNELS, ids=repr)
def test_a_hang_up_of_what_cannot_be_a_channel_is_refused_before_any_look_up(
    pbx_settings, supervisor, odd
):
    response = supervisor.post(URL, {"channel": odd})

    assert response.status_code == 400
    assert [e for e in pbx_settings.sim.request_log() if e.action == "hangupcall"] == []
    assert HangupAttempt.objects.get().result == HangupAttempt.Result.NOT_FOUND
