"""The PBX simulator, exercised over real HTTP through the panel's own client (`calls.pbx.client`).

`requests` is used directly where the client would hide what is checked (raw bytes, headers, exact
error bodies). The cast: Ayşe, a customer calling from her mobile; agent 110 answering queue 630;
agent 101 calling out.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.management import CommandError, call_command

from calls.management.commands.simulate_pbx import caller_pool_from_db
from calls.pbx import (
    Direction,
    PbxBadResponse,
    PbxRejected,
    PbxUnavailable,
    TelsamClient,
)
from calls.simulator import (
    CALLINFO_RINGING,
    CALLINFO_TALKING,
    InvalidControlRequest,
    PbxSimulator,
    SimulatorControl,
    SimulatorServer,
    UnknownChannel,
)

ISTANBUL = ZoneInfo("Europe/Istanbul")
USERNAME = "acme-api"
# Characters that must be URL-encoded, so masking of the encoded form is exercised too.
PASSWORD = "S3cret&Pass=1"
AYSE = "905321234567"
AGENT = "110"
TRUNK_CHANNEL = "SIP/trunk-sip-Trunk110-36a9b"
PROJECT_DIR = Path(__file__).resolve().parents[3]


class FakeClock:
    """An aware UTC clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def set_local(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=ISTANBUL).astimezone(UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 3, 15, 12, 0, tzinfo=UTC))  # 15:00 in Istanbul


@pytest.fixture
def simulator(clock: FakeClock) -> PbxSimulator:
    return PbxSimulator(USERNAME, PASSWORD, clock=clock)


@pytest.fixture
def server(simulator: PbxSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(simulator) as server:
        yield server


@pytest.fixture
def client(server: SimulatorServer) -> TelsamClient:
    return TelsamClient(server.url, USERNAME, PASSWORD, timeout=2)


@pytest.fixture
def control(server: SimulatorServer) -> SimulatorControl:
    return SimulatorControl(server.url, timeout=2)


def api_get(base_url: str, **params: str) -> requests.Response:
    query = {"username": USERNAME, "password": PASSWORD, **params}
    return requests.get(base_url, params=query, timeout=2)


def ended_call(
    simulator: PbxSimulator,
    clock: FakeClock,
    start_local: tuple[int, ...],
    src: str = AYSE,
    dst: str = AGENT,
    *,
    seconds: float = 60,
    answered: bool = True,
) -> None:
    """A call that started at an Istanbul local time and has ended."""
    clock.set_local(*start_local)
    channel = simulator.add_call(
        src, dst, callinfo=CALLINFO_TALKING if answered else CALLINFO_RINGING
    )
    clock.advance(seconds)
    simulator.end_call(channel)


# --- activecalls ------------------------------------------------------------------------------


def test_it_serves_active_calls_in_the_wrapped_shape(server, simulator):
    simulator.add_call(
        AYSE, AGENT, channel=TRUNK_CHANNEL, callinfo="Konuşuyor", calltype="Kuyruk(630)", elapsed=74
    )

    response = api_get(server.url, action="activecalls")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == [
        {
            "success": True,
            "count": 1,
            "data": [
                {
                    "channel": TRUNK_CHANNEL,
                    "duration": "00:01:14",
                    "calltype": "Kuyruk(630)",
                    "callinfo": "Konuşuyor",
                    "src": AYSE,
                    "dst": AGENT,
                }
            ],
        }
    ]
    # Real UTF-8, not \u escapes.
    assert "Konuşuyor".encode() in response.content
    assert b"\\u" not in response.content


def test_it_computes_durations_from_its_clock_at_request_time(client, simulator, clock):
    simulator.add_call(AYSE, AGENT, elapsed=10)
    clock.advance(3600 + 60 + 5)

    (call,) = client.active_calls()

    assert call.elapsed == 3675
    assert simulator.active_calls()[0]["duration"] == "01:01:15"


@pytest.mark.parametrize("url_attribute", ["url", "v2_url"])
def test_it_answers_on_both_v1_and_v2_paths(server, simulator, url_attribute):
    simulator.add_call(AYSE, AGENT, channel=TRUNK_CHANNEL)
    client = TelsamClient(getattr(server, url_attribute), USERNAME, PASSWORD, timeout=2)

    (call,) = client.active_calls()

    assert call.channel == TRUNK_CHANNEL
    assert call.callinfo == "Çalıyor"
    assert call.calltype == "Gelen Arama"


def test_it_names_generated_channels_like_the_pbx(simulator):
    inbound = {simulator.add_call(AYSE, AGENT) for _ in range(50)}
    outbound = simulator.add_call("101", "902121234567")
    internal = simulator.add_call("101", "102")

    assert len(inbound) == 50
    assert all(re.fullmatch(r"SIP/trunk-sip-Trunk110-[0-9a-f]{5}", c) for c in inbound)
    assert re.fullmatch(r"SIP/101-[0-9a-f]{8}", outbound)
    assert re.fullmatch(r"SIP/101-[0-9a-f]{8}", internal)
    calltypes = {row["channel"]: row["calltype"] for row in simulator.active_calls()}
    assert calltypes[outbound] == "Dış Arama"
    assert calltypes[internal] == "Dahili"


# --- errors -----------------------------------------------------------------------------------


def test_it_rejects_bad_credentials(server):
    client = TelsamClient(server.url, USERNAME, "wrong-password", timeout=2)

    with pytest.raises(PbxRejected, match="05: Kullanıcı bilgileri bulunamadı!"):
        client.active_calls()

    response = requests.get(
        server.url,
        params={"username": USERNAME, "password": "x", "action": "activecalls"},
        timeout=2,
    )
    assert response.status_code == 200
    assert response.json() == [{"success": False, "message": "05: Kullanıcı bilgileri bulunamadı!"}]


@pytest.mark.parametrize("params", [{"action": "getrecord"}, {"action": ""}, {}])
def test_it_rejects_an_unknown_or_missing_action(server, params):
    response = api_get(server.url, **params)

    assert response.status_code == 200
    assert response.json() == [{"success": False, "message": "07: Action hatalı"}]


def test_it_answers_404_on_other_paths(server):
    response = requests.get(server.url + "index.php", timeout=2)

    assert response.status_code == 404


# --- hangupcall -------------------------------------------------------------------------------


def test_it_hangs_up_a_call_and_logs_the_channel_with_the_password_masked(
    client, simulator, caplog
):
    caplog.set_level(logging.DEBUG, logger="calls.simulator")  # routine requests log at DEBUG
    simulator.add_call(AYSE, AGENT, channel=TRUNK_CHANNEL, callinfo="Konuşuyor")

    result = client.hangup(TRUNK_CHANNEL)

    assert result.raw == '[{"success": true, "count": 0, "data": []}]'
    assert client.active_calls() == []
    hangups = [entry for entry in simulator.request_log() if entry.action == "hangupcall"]
    assert len(hangups) == 1
    assert hangups[0].path == "/"
    assert hangups[0].params["channel"] == TRUNK_CHANNEL
    assert hangups[0].params["password"] == "***"
    assert PASSWORD not in repr(simulator.request_log())
    # The access log has the request line, whose query string carried the password.
    assert "action=hangupcall" in caplog.text
    assert "password=***" in caplog.text
    assert PASSWORD not in caplog.text
    assert "S3cret" not in caplog.text


def test_it_records_a_hangup_as_answered_or_no_answer(client, simulator, clock):
    talking = simulator.add_call(AYSE, AGENT, callinfo="Konuşuyor")
    ringing = simulator.add_call("905441112233", "111")
    clock.advance(30)

    client.hangup(talking)
    client.hangup(ringing)

    batch = client.cdr(clock.now - timedelta(minutes=5), clock.now)
    dispositions = {record.src: record.disposition for record in batch.records}
    assert dispositions == {AYSE: "ANSWERED", "905441112233": "NO ANSWER"}
    recorded = {record.src: record.record for record in batch.records}
    assert recorded == {AYSE: True, "905441112233": False}


def test_it_refuses_to_hang_up_an_unknown_channel(server, client):
    with pytest.raises(PbxRejected, match="Kanal bulunamadı"):
        client.hangup("SIP/trunk-sip-Trunk110-00000")

    response = api_get(server.url, action="hangupcall", channel="nope")
    assert response.json() == [{"success": False, "message": "Kanal bulunamadı"}]


# --- cdr --------------------------------------------------------------------------------------


def test_it_returns_cdr_rows_in_the_istanbul_window_only(client, simulator, clock):
    ended_call(simulator, clock, (2024, 3, 15, 3, 29, 45), "905300000001")  # 12-hour trap
    ended_call(simulator, clock, (2024, 3, 15, 15, 28, 59), "905300000002")  # just before
    ended_call(simulator, clock, (2024, 3, 15, 15, 29, 0), "905300000003")  # first second
    ended_call(simulator, clock, (2024, 3, 15, 15, 30, 59), "905300000004")  # last second
    ended_call(simulator, clock, (2024, 3, 15, 15, 31, 0), "905300000005")  # just after
    simulator.add_call("905300000006", AGENT)  # still going: not a CDR row yet

    batch = client.cdr(
        datetime(2024, 3, 15, 15, 29, tzinfo=ISTANBUL),
        datetime(2024, 3, 15, 15, 30, tzinfo=ISTANBUL),
    )

    assert [record.src for record in batch.records] == ["905300000003", "905300000004"]
    assert batch.records[0].calldate == datetime(2024, 3, 15, 15, 29, 0, tzinfo=ISTANBUL)
    assert batch.rejected == ()


def test_it_reads_cdr_dates_as_24_hour_istanbul_local_time(server, simulator, clock):
    ended_call(simulator, clock, (2024, 3, 15, 3, 29, 45), "905300000001")
    ended_call(simulator, clock, (2024, 3, 15, 15, 29, 30), "905300000002")

    afternoon = api_get(
        server.url, action="cdr", date1="150320241529", date2="150320241529", number="", uf="yes"
    ).json()[0]
    night = api_get(server.url, action="cdr", date1="150320240329", date2="150320240329").json()[0]

    assert afternoon["count"] == 1
    assert afternoon["data"][0]["src"] == "905300000002"
    assert afternoon["data"][0]["calldate"] == "15.03.2024 15:29:30"
    assert [row["src"] for row in night["data"]] == ["905300000001"]


def test_it_serves_cdr_rows_in_the_documented_shape(server, client, simulator, clock):
    clock.set_local(2024, 3, 15, 15, 10, 0)
    channel = simulator.add_call(
        AYSE, AGENT, callinfo="Konuşuyor", calltype="Kuyruk(630)", userfield="Gelen bilgi"
    )
    clock.advance(85.6972)
    simulator.end_call(channel)
    query = {"action": "cdr", "date1": "150320241500", "date2": "150320241600", "number": ""}

    with_userfield = api_get(server.url, **query, uf="yes").json()
    without_userfield = api_get(server.url, **query).json()
    (record,) = client.cdr(clock.now - timedelta(hours=1), clock.now).records

    assert with_userfield == [
        {
            "success": True,
            "count": 1,
            "data": [
                {
                    "id": "28700",
                    "calldate": "15.03.2024 15:10:00",
                    "calltype": "incoming",
                    "src": AYSE,
                    "dst": AGENT,
                    "duration": "85,6972",
                    "disposition": "ANSWERED",
                    "queue": "630",
                    "record": True,
                    "userfield": "Gelen bilgi",
                }
            ],
        }
    ]
    assert "userfield" not in without_userfield[0]["data"][0]
    assert record.duration == pytest.approx(85.6972)
    assert record.direction is Direction.IN
    assert record.queue == "630"
    assert record.userfield == "Gelen bilgi"


def test_it_reports_outbound_calls_as_outcoming(server, client, simulator, clock):
    ended_call(simulator, clock, (2024, 3, 15, 15, 0, 0), "101", "905551234567")
    ended_call(simulator, clock, (2024, 3, 15, 15, 5, 0), "101", "102")

    rows = api_get(server.url, action="cdr", date1="150320241500", date2="150320241510").json()
    records = client.cdr(clock.now - timedelta(hours=1), clock.now).records

    assert [row["calltype"] for row in rows[0]["data"]] == ["outcoming", "internal"]
    assert [record.direction for record in records] == [Direction.OUT, Direction.INTERNAL]


def test_it_filters_cdr_by_number(client, simulator, clock):
    ended_call(simulator, clock, (2024, 3, 15, 15, 0, 0), AYSE, AGENT)
    ended_call(simulator, clock, (2024, 3, 15, 15, 1, 0), "905441112233", "111")
    ended_call(simulator, clock, (2024, 3, 15, 15, 2, 0), "101", AYSE)
    start, end = clock.now - timedelta(hours=1), clock.now

    by_mobile = client.cdr(start, end, number="5321234567").records
    by_extension = client.cdr(start, end, number="111").records

    assert [(r.src, r.dst) for r in by_mobile] == [(AYSE, AGENT), ("101", AYSE)]
    assert [(r.src, r.dst) for r in by_extension] == [("905441112233", "111")]


@pytest.mark.parametrize(
    "dates",
    [
        {"date2": "150320241600"},
        {"date1": "15032024150", "date2": "150320241600"},
        {"date1": "2024-03-15", "date2": "150320241600"},
        {"date1": "320320241500", "date2": "150320241600"},
        {"date1": "150320242500", "date2": "150320241600"},
    ],
)
def test_it_refuses_malformed_cdr_dates(server, dates):
    (answer,) = api_get(server.url, action="cdr", **dates).json()

    assert answer["success"] is False
    assert "ddMMyyyyHHmm" in answer["message"]


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "latency", "error"),
    [
        ("http_500", 0.0, PbxUnavailable),
        ("latency", 1.0, PbxUnavailable),
        ("hang", 0.0, PbxUnavailable),
        ("hang", 1.0, PbxUnavailable),
        ("html", 0.0, PbxBadResponse),
        ("truncated", 0.0, PbxBadResponse),
        ("success_false", 0.0, PbxRejected),
    ],
)
def test_it_fails_as_told_once_when_given_a_count(server, simulator, kind, latency, error):
    simulator.add_call(AYSE, AGENT)
    client = TelsamClient(server.url, USERNAME, PASSWORD, timeout=0.3)
    simulator.set_fault(kind, latency=latency, count=1)

    with pytest.raises(error) as excinfo:
        client.active_calls()

    assert type(excinfo.value) is error  # html/truncated must not pass for PbxRejected
    assert PASSWORD not in str(excinfo.value)
    assert len(client.active_calls()) == 1  # the fault has cleared itself
    assert simulator.fault is None


def test_it_answers_raw_fault_bodies_like_a_broken_pbx(server, simulator):
    simulator.set_fault("html", count=1)
    html = api_get(server.url, action="activecalls")
    simulator.set_fault("truncated", count=1)
    truncated = api_get(server.url, action="activecalls")
    simulator.set_fault("success_false", count=1)
    rejected = api_get(server.url, action="activecalls")
    simulator.set_fault("http_500", count=1)
    broken = api_get(server.url, action="activecalls")

    assert (html.status_code, html.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert html.text.startswith("<!DOCTYPE html>")
    assert truncated.status_code == 200
    assert truncated.text.startswith('[{"success": true')
    assert not truncated.text.endswith("]")
    assert rejected.json() == [{"success": False, "message": "03: Domain adı hatalı"}]
    assert broken.status_code == 500


@pytest.mark.parametrize("status", [200, 418, 502, 520, 599])
def test_it_serves_any_status_content_type_and_body_as_told(server, simulator, status):
    body = b"\xff\xfe not UTF-8 <h1>Bad Gateway</h1>"
    simulator.set_fault("raw", status=status, body=body, content_type="text/html", count=1)

    broken = api_get(server.url, action="activecalls")

    assert (broken.status_code, broken.headers["Content-Type"]) == (status, "text/html")
    assert broken.content == body
    assert api_get(server.url, action="activecalls").json()[0]["success"] is True  # count=1


def test_it_serves_the_real_answer_reshaped_by_merge_patches(server, simulator):
    channel = simulator.add_call(AYSE, AGENT, callinfo=CALLINFO_TALKING)
    simulator.set_fault(
        "reshape",
        envelope={"count": "2", "server": {"name": "pbx1"}, "success": None},
        row={"src": 905321234567, "duration": None, "agent": {"id": 7}},
        repeat=2,
    )

    (answer,) = api_get(server.url, action="activecalls").json()

    assert answer == {
        "count": "2",
        "server": {"name": "pbx1"},
        "data": [
            {
                "channel": channel,
                "calltype": "Gelen Arama",
                "callinfo": CALLINFO_TALKING,
                "src": 905321234567,
                "dst": AGENT,
                "agent": {"id": 7},
            }
        ]
        * 2,
    }


def test_it_can_replace_data_whole_and_speak_another_charset(server, simulator):
    simulator.add_call(AYSE, AGENT, callinfo=CALLINFO_TALKING)
    simulator.set_fault("reshape", envelope={"data": {"hata": 1}}, count=1)
    replaced = api_get(server.url, action="activecalls").json()
    simulator.set_fault("reshape", encoding="cp1254", count=1)
    turkish = api_get(server.url, action="activecalls")

    assert replaced[0]["data"] == {"hata": 1}
    assert turkish.headers["Content-Type"] == "application/json"
    assert "Konuşuyor".encode("cp1254") in turkish.content
    assert "Konuşuyor".encode() not in turkish.content


@pytest.mark.parametrize(
    "options",
    [
        {"status": 42},
        {"status": "500"},
        {"content_type": "text/html\r\nSet-Cookie: x=1"},
        {"body": 7},
        {"envelope": ["not", "a", "patch"]},
        {"row": "x"},
        {"repeat": 0},
        {"repeat": 10_000},
        {"encoding": "klingon"},
    ],
)
def test_it_refuses_fault_options_it_cannot_serve(simulator, options):
    with pytest.raises(ValueError):
        simulator.set_fault("raw", **options)


def test_it_starts_thousands_of_calls_at_once(client, simulator):
    channels = simulator.add_calls(2000)

    calls = client.active_calls()

    assert len(set(channels)) == 2000
    assert {call.channel for call in calls} == set(channels)
    assert {call.dst for call in calls} <= set(simulator.extensions)
    assert all(call.callinfo == CALLINFO_TALKING for call in calls)


def test_it_takes_raw_bodies_and_many_calls_through_the_control_api(control, server, simulator):
    control.set_fault("raw", body=b"\x00\xffbinary", status=503, count=1)
    state = control.state()
    broken = api_get(server.url, action="activecalls")
    control.set_fault("raw", body="düz metin", content_type="text/plain", count=1)
    text = api_get(server.url, action="activecalls")
    channels = control.add_calls(3)

    assert state["fault"]["status"] == 503 and state["fault"]["body_size"] == 8
    assert (broken.status_code, broken.content) == (503, b"\x00\xffbinary")
    assert text.content == "düz metin".encode()
    assert len(channels) == 3 == len(simulator.active_calls())
    with pytest.raises(InvalidControlRequest):
        control.set_fault("reshape", repeat=0)


def test_it_keeps_a_fault_until_cleared(client, simulator):
    simulator.set_fault("http_500")

    for _ in range(3):
        with pytest.raises(PbxUnavailable):
            client.active_calls()
    simulator.set_fault(None)

    assert client.active_calls() == []


def test_it_answers_normally_after_a_short_latency(client, simulator):
    simulator.add_call(AYSE, AGENT)
    simulator.set_fault("latency", latency=0.2)

    started = time.monotonic()
    calls = client.active_calls()

    assert time.monotonic() - started >= 0.2
    assert len(calls) == 1


def test_it_keeps_the_control_api_responsive_while_an_api_request_is_slow(
    server, simulator, control
):
    simulator.set_fault("latency", latency=0.4)
    client = TelsamClient(server.url, USERNAME, PASSWORD, timeout=2)
    slow = threading.Thread(target=client.active_calls)
    slow.start()
    time.sleep(0.05)

    started = time.monotonic()
    state = control.state()
    elapsed = time.monotonic() - started
    slow.join()

    assert elapsed < 0.2
    assert state["fault"]["kind"] == "latency"


def test_it_refuses_connections_once_stopped(server, client):
    client.active_calls()  # leaves nothing pooled: the simulator closes every connection

    server.stop()

    with pytest.raises(PbxUnavailable, match="connection refused"):
        client.active_calls()


# --- traffic ----------------------------------------------------------------------------------


def test_it_does_nothing_by_itself_without_traffic(simulator, clock):
    clock.advance(3600)

    assert simulator.active_calls() == []
    assert simulator.cdr_count() == 0


def test_it_generates_traffic_that_rings_is_answered_and_ends_in_cdr(clock):
    simulator = PbxSimulator(USERNAME, PASSWORD, seed=7, traffic=True, clock=clock, history_hours=0)
    start = clock.now
    seen: dict[str, list[tuple[datetime, str, str, str, int]]] = {}
    most_at_once = 0
    with SimulatorServer(simulator) as server:
        client = TelsamClient(server.url, USERNAME, PASSWORD, timeout=2)
        for _ in range(200):
            clock.advance(3)
            calls = client.active_calls()
            most_at_once = max(most_at_once, len(calls))
            for call in calls:
                seen.setdefault(call.channel, []).append(
                    (clock.now, call.callinfo, call.src, call.dst, call.elapsed or 0)
                )
        active_now = {call.channel for call in client.active_calls()}
        records = client.cdr(start - timedelta(minutes=5), clock.now).records

    assert 1 <= most_at_once <= 8
    lifecycles = {
        channel: [info for _, info, *_ in polls]
        for channel, polls in seen.items()
        if channel not in active_now
    }
    answered = [
        channel
        for channel, infos in lifecycles.items()
        if "Çalıyor" in infos and infos[-1] in ("Konuşuyor", "Beklemede")
    ]
    assert answered, "no call was seen ringing, then talking, then gone"
    assert any("Kuyrukta" in infos for infos in lifecycles.values())
    assert any("Beklemede" in infos for infos in lifecycles.values())
    # The answered call's CDR row: same caller, final callee, same start (to the second).
    at, _, src, dst, elapsed = seen[answered[0]][-1]
    started_at = at - timedelta(seconds=elapsed)
    matches = [
        r
        for r in records
        if r.src == src and r.dst == dst and abs((r.calldate - started_at).total_seconds()) <= 1
    ]
    assert [r.disposition for r in matches] == ["ANSWERED"]
    assert {r.disposition for r in records} >= {"ANSWERED", "NO ANSWER"}
    assert len({r.id for r in records}) == len(records)


def _run_traffic(seed: int, poll_every: float) -> tuple[list[list[dict]], list[dict]]:
    clock = FakeClock(datetime(2024, 3, 15, 12, 0, tzinfo=UTC))
    simulator = PbxSimulator(USERNAME, PASSWORD, seed=seed, traffic=True, clock=clock)
    snapshots = []
    for _ in range(int(900 / poll_every)):
        clock.advance(poll_every)
        snapshots.append(simulator.active_calls())
    rows = simulator.cdr_rows(clock.now - timedelta(days=3), clock.now)
    return snapshots, rows


def test_it_replays_the_same_traffic_for_the_same_seed():
    first_snapshots, first_rows = _run_traffic(seed=42, poll_every=1)
    second_snapshots, second_rows = _run_traffic(seed=42, poll_every=1)
    _, rarely_polled_rows = _run_traffic(seed=42, poll_every=300)
    _, other_rows = _run_traffic(seed=43, poll_every=1)

    assert first_snapshots == second_snapshots
    assert first_rows == second_rows
    # Events, not polls, drive the randomness: polling less often changes nothing.
    assert rarely_polled_rows == first_rows
    assert other_rows != first_rows


def test_it_prefills_two_days_of_cdr_history_when_traffic_is_on(clock):
    simulator = PbxSimulator(USERNAME, PASSWORD, seed=1, traffic=True, clock=clock)
    with SimulatorServer(simulator) as server:
        client = TelsamClient(server.url, USERNAME, PASSWORD, timeout=2)
        batch = client.cdr(clock.now - timedelta(days=2), clock.now)

    assert 100 <= len(batch.records) <= 1000
    assert batch.rejected == ()
    ids = [int(record.id) for record in batch.records]
    assert len(set(ids)) == len(ids)
    assert min(ids) == 28700
    assert {r.direction for r in batch.records} == {Direction.IN, Direction.OUT, Direction.INTERNAL}
    assert all(
        re.fullmatch(r"90\d{10}", r.src) for r in batch.records if r.direction is Direction.IN
    )


def test_it_draws_inbound_callers_from_the_caller_pool(clock):
    simulator = PbxSimulator(
        USERNAME, PASSWORD, seed=3, traffic=True, clock=clock, caller_pool=["+905321234567"]
    )

    rows = simulator.cdr_rows(clock.now - timedelta(days=2), clock.now)

    inbound = [row for row in rows if row["calltype"] == "incoming"]
    share = sum(row["src"] == AYSE for row in inbound) / len(inbound)
    assert 0.4 < share < 0.8


# --- control API ------------------------------------------------------------------------------


def test_it_can_be_driven_through_the_control_api(control, client, clock):
    channel = control.add_call(AYSE, "630", calltype="Kuyruk(630)", callinfo="Kuyrukta")
    control.update_call(channel, callinfo="Konuşuyor", dst=AGENT)
    (call,) = client.active_calls()
    clock.advance(42)
    control.end_call(channel)

    assert (call.channel, call.dst, call.callinfo) == (channel, AGENT, "Konuşuyor")
    state = control.state()
    assert state == {"active_calls": [], "cdr_count": 1, "fault": None, "traffic": False}
    (record,) = client.cdr(clock.now - timedelta(hours=1), clock.now).records
    assert (record.disposition, record.queue, record.duration) == ("ANSWERED", "630", 42.0)
    log = control.request_log()
    assert [entry.action for entry in log] == ["activecalls", "cdr"]
    assert log[0].params["password"] == "***"
    assert log[0].at == datetime(2024, 3, 15, 12, 0, tzinfo=UTC)

    control.clear_request_log()
    assert control.request_log() == []
    control.add_call(AYSE, AGENT)
    control.reset()
    assert control.state()["active_calls"] == []
    assert control.state()["cdr_count"] == 0


def test_it_sets_faults_through_the_control_api(control, client):
    control.set_fault("success_false", count=2)

    for _ in range(2):
        with pytest.raises(PbxRejected, match="03: Domain adı hatalı"):
            client.active_calls()

    assert client.active_calls() == []
    assert control.state()["fault"] is None


def test_it_reports_control_errors_like_the_engine(control):
    with pytest.raises(KeyError):
        control.end_call("SIP/nope-00000000")
    with pytest.raises(UnknownChannel):
        control.update_call("SIP/nope-00000000", callinfo="Konuşuyor")
    with pytest.raises(ValueError, match="fault kind"):
        control.set_fault("refuse")
    with pytest.raises(InvalidControlRequest):
        control.add_call(AYSE, AGENT, colour="blue")


def test_it_keeps_cdr_ids_increasing_across_a_reset(simulator, clock):
    ended_call(simulator, clock, (2024, 3, 15, 15, 0, 0))
    simulator.reset()
    ended_call(simulator, clock, (2024, 3, 15, 15, 5, 0))

    (row,) = simulator.cdr_rows(clock.now - timedelta(hours=1), clock.now)
    assert row["id"] == "28701"


# --- management command -----------------------------------------------------------------------


def test_it_refuses_to_start_without_credentials(settings):
    settings.TELSAM_API_USERNAME = ""
    settings.TELSAM_API_PASSWORD = ""

    with pytest.raises(CommandError, match="TELSAM_API_USERNAME"):
        call_command("simulate_pbx", "--port", "0")


@pytest.mark.django_db
def test_it_builds_the_caller_pool_from_customers_numbers():
    from customers.models import Customer, PhoneNumber

    ayse = Customer.objects.create(name="Ayşe Yılmaz")
    PhoneNumber.objects.create(customer=ayse, number="+905321234567")

    assert caller_pool_from_db() == [AYSE]


@pytest.mark.processes
def test_it_runs_as_a_management_command(tmp_path):
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        # An empty database: the caller pool table is missing, which must only warn.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "TELSAM_API_USERNAME": "demo",
        "TELSAM_API_PASSWORD": "demo-pass-123",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_pbx", "--port", "0", "--seed", "5"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = _read_until(process, "Quit with Ctrl-C.", timeout=8)
        v1_url = re.search(r"V1 URL: (\S+)", output).group(1)
        v2_url = re.search(r"V2 URL: (\S+)", output).group(1)
        for url in (v1_url, v2_url):
            assert TelsamClient(url, "demo", "demo-pass-123", timeout=2).active_calls()
    finally:
        process.send_signal(signal.SIGTERM)  # as honcho does when the demo stops
        _, stderr = process.communicate(timeout=5)

    assert process.returncode == 0
    assert v2_url == v1_url + "api/old/get"
    assert "seed 5" in output
    assert "callers will all be random" in stderr
    assert "demo-pass-123" not in output + stderr


def _read_until(process: subprocess.Popen[str], marker: str, *, timeout: float) -> str:
    """The process's output up to `marker`; a thread reads so that a silent process can't block."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")))
    reader.daemon = True
    reader.start()
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in lines):
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail("simulate_pbx did not start:\n" + "".join(lines))
        time.sleep(0.02)
    return "".join(lines)
