"""The PBX client: envelope and field parsing, errors, and the simulator over real HTTP."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calls.pbx import (
    MAX_TEXT_CHARS,
    ActiveCall,
    Direction,
    PbxBadResponse,
    PbxReason,
    PbxRejected,
    PbxUnavailable,
    TelsamClient,
    decode_body,
    format_cdr_param,
    parse_active_calls,
    parse_cdr,
    unwrap,
)
from calls.pbx.answers import parse_active_call, parse_cdr_record
from calls.pbx.fields import parse_calldate, parse_cdr_duration, parse_elapsed
from tests.support.pbx import PBX_PASSWORD, PBX_USER

IST = ZoneInfo("Europe/Istanbul")
ROW = {
    "channel": "SIP/trunk-sip-Trunk110-36a9b",
    "duration": "00:01:14",
    "calltype": "Kuyruk(630)",
    "callinfo": "Konuşuyor",
    "src": "905321234567",
    "dst": "110",
}


# --- envelope -----------------------------------------------------------------------------------


def test_it_unwraps_the_one_element_array():
    body = json.dumps([{"success": True, "count": 1, "data": [ROW]}])
    assert unwrap(body) == [ROW]


def test_it_accepts_the_bare_object():
    body = json.dumps({"success": True, "count": 1, "data": [ROW]})
    assert unwrap(body) == [ROW]


@pytest.mark.parametrize("count", [0, 5, "1", "abc", None])
def test_it_treats_count_as_advisory(count):
    body = json.dumps([{"success": True, "count": count, "data": [ROW, ROW]}])
    assert len(unwrap(body)) == 2


@pytest.mark.parametrize(
    "envelope", [{"success": True, "count": 0}, {"success": True, "data": None}]
)
def test_it_reads_missing_or_null_data_as_no_rows(envelope):
    assert unwrap(json.dumps([envelope])) == []


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ("<html><body>502 Bad Gateway</body></html>", PbxBadResponse, "HTML"),
        ('[{"success": true, "count": 1, "data": [{"chan', PbxBadResponse, "invalid JSON"),
        ("", PbxBadResponse, "empty"),
        (
            '[{"success": false, "message": "05: Kullanıcı bilgileri bulunamadı!"}]',
            PbxRejected,
            "05:",
        ),
        ('[{"success": false}]', PbxRejected, "no reason"),
        ('[{"success": "false", "data": []}]', PbxRejected, "refused"),
        ("[]", PbxBadResponse, "shape"),
        ('"ok"', PbxBadResponse, "shape"),
        ('[{"success": true, "data": 7}]', PbxBadResponse, "not a list"),
        ('[{"count": 1, "data": []}]', PbxBadResponse, "no success field"),
        ("[" * 100_000, PbxBadResponse, "invalid JSON"),  # nesting deeper than the parser's stack
        (b"\xff\xfe\x00garbage", PbxBadResponse, "invalid JSON"),
    ],
)
def test_it_reports_unusable_answers_as_its_own_errors(body, error, words):
    with pytest.raises(error, match=words):
        unwrap(body)


def test_it_reports_an_answer_without_one_readable_row_instead_of_no_calls():
    # Taking it for "no calls" would clear every panel; it says nothing about the calls.
    body = json.dumps([{"success": True, "count": 2, "data": [{"src": "1"}, "SIP/x"]}])
    with pytest.raises(PbxBadResponse, match="no usable call rows") as caught:
        parse_active_calls(body)
    assert caught.value.reason is PbxReason.BAD_RESPONSE


def test_it_skips_unreadable_rows_beside_readable_ones():
    body = json.dumps([{"success": True, "count": 3, "data": [ROW, {"src": "1"}, 42]}])
    assert [call.channel for call in parse_active_calls(body)] == [ROW["channel"]]


@pytest.mark.parametrize(
    ("charset", "expected"),
    [
        (None, "Konuşuyor"),
        ("ISO-8859-1", "Konuşuyor"),  # what requests assumes when no charset is given
        ("x-klingon", "Konuşuyor"),  # unknown: read as UTF-8
        ("base64", "Konuşuyor"),  # not a text encoding
        ("cp1254", "KonuÅŸuyor"),  # declared: believed
    ],
)
def test_it_decodes_the_answer_whatever_charset_it_declares(charset, expected):
    assert decode_body("Konuşuyor".encode(), charset) == expected


def test_it_replaces_bytes_that_are_not_utf8():
    assert decode_body("Konuşuyor".encode("cp1254")) == "Konu\ufffduyor"


# --- field parsers (tables) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:00", 0),
        ("00:01:14", 74),
        ("01:00:00", 3600),
        ("27:03:09", 27 * 3600 + 189),
        ("01:14", 74),
        ("45", 45),
        (" 00:00:09 ", 9),
    ],
)
def test_it_parses_elapsed_durations(text, seconds):
    assert parse_elapsed(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "00:61:00",
        "1:2:3:4",
        "-00:00:01",
        "00:0a:10",
        "٠٠:٠١:١٤",  # digits, but not ASCII ones
        "²",
        "745:00:01",  # more than 31 days
        "99999999999:00:00",
        None,
        ["00:00:01"],
    ],
)
def test_it_rejects_malformed_elapsed_durations(text):
    with pytest.raises(ValueError):
        parse_elapsed(text)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("85,6972", 85.6972),
        ("4,39364", 4.39364),
        ("28,382", 28.382),
        ("12.5", 12.5),
        ("0", 0.0),
        (7, 7.0),
    ],
)
def test_it_parses_comma_decimal_cdr_durations(value, seconds):
    assert parse_cdr_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", ["", "1,2,3", "abc", "-4,5", True, 10**400, float("nan"), float("inf"), "9" * 400, [1]]
)
def test_it_rejects_malformed_cdr_durations(value):
    with pytest.raises(ValueError):
        parse_cdr_duration(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03.09.2019 12:30:38", datetime(2019, 9, 3, 12, 30, 38, tzinfo=IST)),
        ("03.09.201912:30:38", datetime(2019, 9, 3, 12, 30, 38, tzinfo=IST)),  # published variant
        ("31.12.2026 23:59:59", datetime(2026, 12, 31, 23, 59, 59, tzinfo=IST)),
        ("01.01.2027 00:00:00", datetime(2027, 1, 1, 0, 0, 0, tzinfo=IST)),
    ],
)
def test_it_parses_call_dates_as_istanbul_time(text, expected):
    parsed = parse_calldate(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(hours=3)


@pytest.mark.parametrize(
    "text", ["2019-09-03 12:30:38", "3.9.2019 12:30:38", "31.02.2026 10:00:00", ""]
)
def test_it_rejects_malformed_call_dates(text):
    with pytest.raises(ValueError):
        parse_calldate(text)


@pytest.mark.parametrize(
    ("moment", "param"),
    [
        (datetime(2019, 9, 3, 15, 0, tzinfo=IST), "030920191500"),  # 24-hour, not 03 pm → "03"
        (datetime(2019, 9, 3, 12, 0, tzinfo=ZoneInfo("UTC")), "030920191500"),  # sent as Istanbul
        (
            datetime(2026, 12, 31, 22, 30, tzinfo=ZoneInfo("UTC")),
            "010120270130",
        ),  # crosses the year
    ],
)
def test_it_formats_cdr_window_bounds_in_istanbul_24_hour_time(moment, param):
    assert format_cdr_param(moment) == param


def test_it_refuses_naive_cdr_window_bounds():
    with pytest.raises(ValueError):
        format_cdr_param(datetime(2019, 9, 3, 15, 0))


def test_it_parses_an_active_call_row():
    assert parse_active_call(ROW) == ActiveCall(
        channel="SIP/trunk-sip-Trunk110-36a9b",
        src="905321234567",
        dst="110",
        calltype="Kuyruk(630)",
        callinfo="Konuşuyor",
        elapsed=74,
    )


def test_it_keeps_an_active_call_with_a_garbled_duration():
    assert parse_active_call({**ROW, "duration": "??"}).elapsed is None


def test_it_reads_numbers_sent_as_json_numbers_as_text():
    call = parse_active_call({**ROW, "src": 905321234567, "dst": 110})
    assert (call.src, call.dst) == ("905321234567", "110")


def test_it_cleans_and_bounds_text_fields():
    call = parse_active_call(
        {**ROW, "callinfo": "\ud800Konu\x00şuyor\x1b ", "calltype": "K" * 10_000, "dst": {"x": 1}}
    )
    assert call.callinfo == "\ufffdKonu şuyor"
    assert len(call.calltype) == MAX_TEXT_CHARS and call.calltype.endswith("…")
    assert call.dst == ""


@pytest.mark.parametrize("channel", [None, "", "  ", {"id": 7}, ["SIP/x"], True, "S" * 201])
def test_it_refuses_a_row_without_a_usable_channel(channel):
    # A channel is the call's identity (used to hang up): never guessed, never shortened.
    with pytest.raises(ValueError):
        parse_active_call({**ROW, "channel": channel})


def test_it_rejects_a_cdr_row_whose_id_is_longer_than_the_database_keeps():
    row = {"id": "9" * 65, "calldate": "03.09.2019 11:31:54", "duration": "4,39364"}
    batch = parse_cdr(json.dumps([{"success": True, "data": [row, {**row, "id": "1"}]}]))
    assert [r.id for r in batch.records] == ["1"]
    assert [r.reason for r in batch.rejected] == ["id is longer than 64 characters"]


@pytest.mark.parametrize(
    ("calltype", "direction"),
    [
        ("incoming", Direction.IN),
        ("outcoming", Direction.OUT),
        ("internal", Direction.INTERNAL),
        ("OUTGOING", Direction.OUT),
        ("weird", Direction.UNKNOWN),
    ],
)
def test_it_maps_cdr_call_types_to_directions(calltype, direction):
    row = {
        "id": "1",
        "calldate": "03.09.2019 11:31:54",
        "calltype": calltype,
        "duration": "4,39364",
    }
    assert parse_cdr_record(row).direction is direction


def test_it_parses_the_documented_cdr_example():
    record = parse_cdr_record(
        {
            "id": "28699",
            "calldate": "03.09.2019 12:30:38",
            "calltype": "incoming",
            "src": "90507XXXXXXX",
            "dst": "101",
            "duration": "85,6972",
            "disposition": "ANSWERED",
            "queue": "",
            "record": True,
            "userfield": "Gelen bilgi",
        }
    )
    assert record.id == "28699"
    assert record.calldate == datetime(2019, 9, 3, 12, 30, 38, tzinfo=IST)
    assert record.duration == pytest.approx(85.6972)
    assert (record.disposition, record.queue, record.record, record.userfield) == (
        "ANSWERED",
        "",
        True,
        "Gelen bilgi",
    )


# --- over real HTTP against the simulator --------------------------------------------------------


def test_it_reads_active_calls_from_the_v1_base_url(pbx_sim, pbx):
    channel = pbx_sim.sim.add_call(
        "905321234567", "110", callinfo="Konuşuyor", calltype="Kuyruk(630)"
    )
    calls = pbx.active_calls()
    assert [(c.channel, c.src, c.dst, c.callinfo, c.calltype) for c in calls] == [
        (channel, "905321234567", "110", "Konuşuyor", "Kuyruk(630)")
    ]


def test_it_reads_active_calls_from_the_v2_base_url(pbx_sim):
    pbx_sim.sim.add_call("905321234567", "110")
    client = TelsamClient(pbx_sim.v2_url, PBX_USER, PBX_PASSWORD, timeout=0.5)
    assert [c.src for c in client.active_calls()] == ["905321234567"]
    assert pbx_sim.sim.request_log()[-1].path == "/api/old/get"


def test_it_sends_the_channel_encoded_when_hanging_up(pbx_sim, pbx):
    channel = pbx_sim.sim.add_call("905321234567", "110", callinfo="Konuşuyor")
    pbx.hangup(channel)
    assert pbx.active_calls() == []
    hangups = [e for e in pbx_sim.sim.request_log() if e.action == "hangupcall"]
    assert [e.params["channel"] for e in hangups] == [channel]


def test_it_reports_a_hangup_the_pbx_refuses(pbx):
    with pytest.raises(PbxRejected):
        pbx.hangup("SIP/no-such-channel")


def test_it_reads_ended_calls_as_cdr_records(pbx_sim, pbx):
    channel = pbx_sim.sim.add_call("905321234567", "110", callinfo="Konuşuyor")
    pbx_sim.sim.end_call(channel)
    now = datetime.now(IST)
    batch = pbx.cdr(now - timedelta(minutes=5), now + timedelta(minutes=1))
    assert [(r.src, r.dst, r.direction, r.disposition) for r in batch.records] == [
        ("905321234567", "110", Direction.IN, "ANSWERED")
    ]
    assert batch.rejected == ()
    assert batch.records[0].calldate.tzinfo is not None


def test_it_sends_its_credentials_and_the_password_arrives_intact(pbx_sim, pbx):
    pbx.active_calls()  # the simulator answers success only if the encoded password round-trips
    entry = pbx_sim.sim.request_log()[-1]
    assert entry.params["username"] == PBX_USER
    assert entry.params["password"] == "***"


def test_it_raises_rejected_on_bad_credentials(pbx_sim):
    client = TelsamClient(pbx_sim.url, PBX_USER, "wrong-password", timeout=0.5)
    with pytest.raises(PbxRejected, match="05"):
        client.active_calls()


@pytest.mark.parametrize(
    ("fault", "error", "transient", "reason"),
    [
        ("http_500", PbxUnavailable, True, "http_error"),
        ("html", PbxBadResponse, False, "bad_response"),
        ("truncated", PbxBadResponse, False, "bad_response"),
        ("success_false", PbxRejected, False, "rejected"),
        ("hang", PbxUnavailable, True, "unreachable"),
        ("latency", PbxUnavailable, True, "timeout"),
    ],
)
def test_it_classifies_pbx_faults(pbx_sim, pbx, fault, error, transient, reason):
    pbx_sim.sim.set_fault(fault, latency=1.0 if fault == "latency" else 0.0)
    with pytest.raises(error) as caught:
        pbx.active_calls()
    assert type(caught.value) is error
    assert caught.value.transient is transient
    assert caught.value.reason == reason


def test_it_reports_a_4xx_as_an_http_error_to_check_the_url(pbx_sim, pbx):
    pbx_sim.sim.set_fault("raw", status=403, body=b"<h1>Forbidden</h1>", content_type="text/html")
    with pytest.raises(PbxBadResponse, match="HTTP 403") as caught:
        pbx.active_calls()
    assert caught.value.reason is PbxReason.HTTP_ERROR


@pytest.mark.parametrize("url", ["", "ftp://pbx.example/", "pbx.example", "http://"])
def test_it_reports_a_missing_or_malformed_url_as_not_configured(url):
    client = TelsamClient(url, PBX_USER, PBX_PASSWORD, timeout=0.5)
    with pytest.raises(PbxBadResponse) as caught:
        client.active_calls()
    assert caught.value.reason is PbxReason.NOT_CONFIGURED


def test_it_gives_up_on_a_slow_pbx_within_its_timeout(pbx_sim, pbx):
    pbx_sim.sim.set_fault("latency", latency=2.0)
    with pytest.raises(PbxUnavailable, match=r"did not answer within 0\.5 s"):
        pbx.active_calls()


def test_it_gives_up_on_a_pbx_that_trickles_its_answer(pbx_sim, pbx):
    # Every chunk arrives well within the read timeout; only the whole answer is too slow. A few
    # calls make pieces of some size: the client must not wait for a full buffer of them either.
    for extension in ("110", "111", "112"):
        pbx_sim.sim.add_call("905321234567", extension)
    pbx_sim.sim.set_fault("trickle", latency=5.0)
    started = time.monotonic()
    with pytest.raises(PbxUnavailable, match=r"did not answer within 0\.5 s") as caught:
        pbx.active_calls()
    assert time.monotonic() - started < 1.5
    assert caught.value.reason is PbxReason.TIMEOUT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_reports_a_refused_connection_as_unavailable():
    client = TelsamClient(f"http://127.0.0.1:{_free_port()}/", PBX_USER, PBX_PASSWORD, timeout=0.5)
    with pytest.raises(PbxUnavailable, match="connection refused") as caught:
        client.active_calls()
    assert caught.value.reason is PbxReason.UNREACHABLE


def test_it_does_not_show_its_password_in_repr():
    client = TelsamClient("http://pbx.example/", PBX_USER, PBX_PASSWORD)
    assert PBX_PASSWORD not in repr(client)
    assert "password" not in repr(client).lower()


def test_it_reports_a_wrong_base_url_as_a_bad_response(pbx_sim):
    client = TelsamClient(pbx_sim.url + "no/such/path", PBX_USER, PBX_PASSWORD, timeout=0.5)
    with pytest.raises(PbxBadResponse, match="HTTP 404") as caught:
        client.active_calls()
    assert caught.value.transient is False


def test_it_reports_a_dropped_connection_as_unavailable(pbx_sim, pbx):
    pbx_sim.sim.set_fault("hang", latency=0.05)
    with pytest.raises(PbxUnavailable, match="closed the connection without answering"):
        pbx.active_calls()


def test_it_reports_an_unknown_host_as_unavailable():
    client = TelsamClient("http://pbx.invalid/", PBX_USER, PBX_PASSWORD, timeout=0.5)
    with pytest.raises(PbxUnavailable, match=r"pbx\.invalid") as caught:
        client.active_calls()
    assert caught.value.reason is PbxReason.UNREACHABLE


def test_it_recovers_on_the_next_request_after_a_fault(pbx_sim, pbx):
    pbx_sim.sim.add_call("905321234567", "110")
    pbx_sim.sim.set_fault("http_500", count=1)
    with pytest.raises(PbxUnavailable):
        pbx.active_calls()
    assert len(pbx.active_calls()) == 1
