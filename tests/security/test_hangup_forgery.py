"""Forged channels in a hang-up request. A channel the panel has not seen live is refused and never
sent; one that cannot be a channel at all (too long, control characters) is refused with 400 before
anything is looked up; both are audited. A live channel, whatever characters it holds, reaches the
PBX encoded as one parameter: the simulator (which reads the query as PHP does, the last of a
repeated parameter winning) sees exactly that channel and one `action`.
(Permission, CSRF and the plain unknown channel: tests/calls/panel/test_hangup.py.)"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from calls.live.poll import poll_active_calls
from calls.live.snapshot import read_snapshot
from calls.models import HangupAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

URL = reverse("calls:hangup")
INJECTIONS = [
    "SIP/110-1&action=cdr",
    "SIP/110-1&password=x&username=y",
    "%26password%3D",
    "../../etc/passwd",
    "SIP/110-1#fragment",
    "SIP/110-1?action=cdr",
    "SIP/110 1+2;3",
    "Kanal/çağrı-ü",
]
UNCHANNELS = [
    "A" * 10_000,
    "A" * 201,
    "SIP/110-1\x00",
    "SIP/110-1\naction=cdr",
    "SIP/110-1\r\nX-Injected: 1",
    "\x7f",
]


@pytest.fixture
def supervisor(sam) -> Client:
    client = Client()
    client.force_login(sam)
    return client


def pbx_requests(sim) -> list:
    return [entry for entry in sim.request_log() if entry.action != "activecalls"]


@pytest.mark.parametrize("channel", INJECTIONS + UNCHANNELS)
def test_a_forged_channel_that_is_not_live_never_reaches_the_pbx(pbx_settings, supervisor, channel):
    pbx_settings.sim.add_call("905321234567", "110")
    poll_active_calls()
    pbx_settings.sim.clear_request_log()

    response = supervisor.post(URL, {"channel": channel})

    assert response.status_code == (404 if channel in INJECTIONS else 400)
    assert response.json()["ok"] is False
    assert pbx_requests(pbx_settings.sim) == []
    attempt = HangupAttempt.objects.get()  # audited all the same
    assert attempt.result == HangupAttempt.Result.NOT_FOUND
    assert len(attempt.channel) <= 200
    assert not any(ord(c) < 32 or ord(c) == 127 for c in attempt.channel)


# (A PBX answer is redacted as a whole, so a live channel never holds "password=…".)
@pytest.mark.parametrize("channel", [c for c in INJECTIONS if "password=" not in c])
def test_a_live_channel_with_odd_characters_reaches_the_pbx_as_one_parameter(
    pbx_settings, supervisor, channel
):
    pbx_settings.sim.add_call("905321234567", "110", channel=channel)
    poll_active_calls()
    assert channel in read_snapshot().calls
    pbx_settings.sim.clear_request_log()

    response = supervisor.post(URL, {"channel": channel})

    assert response.status_code == 200, response.content
    [request] = pbx_requests(pbx_settings.sim)
    assert request.action == "hangupcall"
    assert request.params["channel"] == channel
    assert set(request.params) == {"username", "password", "action", "channel"}
    assert request.params["password"] == "***"  # ours, not one smuggled in the channel


def test_a_control_character_is_refused_even_if_the_pbx_listed_such_a_channel(
    pbx_settings, supervisor
):
    channel = "SIP/110-1\nX"
    pbx_settings.sim.add_call("905321234567", "110", channel=channel)
    poll_active_calls()
    pbx_settings.sim.clear_request_log()
    assert supervisor.post(URL, {"channel": channel}).status_code == 400
    assert pbx_requests(pbx_settings.sim) == []
