"""The PBX fault matrix end to end: simulator over HTTP → real poll task → real Redis → a panel.

Two tables. **Outages** are answers the panel cannot use (no connection, no answer in time, HTTP
errors, HTML, broken JSON, `success: false`, wrong shapes): for each, polls in a row all complete,
every panel keeps the last good calls with `pbx.ok` false, a reason code (`pbx.reason`, which the
page translates) and the technical detail (`pbx.error`), and the first good poll afterwards
recovers by itself. **Oddities** are answers that are strange but usable, and what is right for
each is decided here:

- `count` is advisory: text, or a number that disagrees with the rows, changes nothing;
- extra fields in the envelope or rows are ignored; numbers sent as JSON numbers are read as text;
- `data` as one bare row object is that one row;
- a channel listed twice is one call, with the state of its last row;
- long text fields are cut to `MAX_TEXT_CHARS`; bytes that are not UTF-8 become U+FFFD; control
  characters and lone surrogates never reach Redis or the page;
- an absurd duration reads as "just started";
- rows that cannot be read are skipped when others can (a channel longer than any real one, one
  with control characters or white space at an end, or no channel at all, makes a row
  unreadable: a channel is handed back to end its call, so it is never shortened or altered);
- thousands of calls at once are all delivered;
- a PBX slower than the poll interval but within the timeout is simply slow.

Throughout, the PBX password appears in no message and no log record.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, quote_plus

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from calls.live.snapshot import poll_counters
from calls.pbx import MAX_TEXT_CHARS
from calls.pbx import client as telsam
from calls.tasks import poll_active_calls_task
from customers.services import customer_create
from telsam_panel.asgi import application
from tests.support.pbx import PBX_PASSWORD, SimulatedPbx

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("live_redis"),
]

AYSE = "905321234567"  # as the PBX sends her number
OTHER = "905559998877"
TALKING = "Konuşuyor"
POLLS_DURING_OUTAGE = 3
# The client's deadline is TELSAM_API_TIMEOUT (0.5 s here) for the whole answer, overrun by at most
# one socket read; the rest is slack for a loaded machine.
POLL_TIME_BOUND = 2.5
WRONG_PASSWORD = "not-the-password-42"
ORIGIN = (b"origin", b"http://127.0.0.1")


# --- the panel and the poll -------------------------------------------------------------------


async def connected_panel(user) -> tuple[WebsocketCommunicator, dict]:
    """A logged-in panel over the real ASGI app and channel layer, and its first snapshot."""
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    headers = [
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        (b"host", b"127.0.0.1"),
        ORIGIN,
    ]
    panel = WebsocketCommunicator(application, "/ws/calls/", headers=headers)
    connected, _ = await panel.connect()
    assert connected
    snapshot = json.loads(await panel.receive_from(timeout=5))
    assert snapshot["type"] == "snapshot"
    return panel, snapshot


async def poll() -> str:
    """One run of the real Celery task, in this process; returns its outcome."""
    result = await sync_to_async(poll_active_calls_task.apply)()
    return result.get()


async def next_message(panel: WebsocketCommunicator) -> tuple[str, dict]:
    """The next message as sent (text, to search for secrets) and parsed."""
    text = await panel.receive_from(timeout=10)
    return text, json.loads(text)


async def resync(panel: WebsocketCommunicator) -> dict:
    await panel.send_json_to({"type": "resync"})
    _, snapshot = await next_message(panel)
    assert snapshot["type"] == "snapshot"
    return snapshot


def channels(calls: list[dict]) -> set[str]:
    return {call["channel"] for call in calls}


def assert_no_secret(text: str) -> None:
    for secret in (PBX_PASSWORD, WRONG_PASSWORD):
        for form in (secret, quote(secret, safe=""), quote_plus(secret)):
            assert form not in text
    # Library debug lines may show the request URL, but only with the value masked.
    assert not re.search(r"(?i)password=(?!\*\*\*)", text)


# --- ways for the PBX to fail --------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What a row of the tables may change; everything is put back by `clear_faults`."""

    pbx: SimulatedPbx
    settings: object
    monkeypatch: pytest.MonkeyPatch


Action = Callable[[Setup], object]


def fault(kind: str, **options) -> Action:
    return lambda setup: setup.pbx.sim.set_fault(kind, **options)


def raw(body: bytes | str, status: int = 200, content_type: str = "application/json") -> Action:
    return fault("raw", status=status, body=body, content_type=content_type)


def answer(*rows, **envelope) -> bytes:
    """A PBX answer in the documented wrapper, with `envelope` keys replacing the usual ones."""
    payload = {"success": True, "count": len(rows), "data": list(rows), **envelope}
    # ASCII with escapes, so that lone surrogates (`\ud800`) can be sent as a broken PBX would.
    return json.dumps([payload]).encode()


def pbx_url(url: str) -> Action:
    return lambda setup: setattr(setup.settings, "TELSAM_API_URL", url)


def wrong_password(setup: Setup) -> None:
    setup.settings.TELSAM_API_PASSWORD = WRONG_PASSWORD


def larger_than_allowed(setup: Setup) -> None:
    # The real limit is 20 MB; a smaller one shows the same refusal without moving 20 MB around.
    setup.monkeypatch.setattr(telsam, "MAX_RESPONSE_BYTES", 10_000)
    setup.pbx.sim.set_fault("raw", body=answer(*[row(f"SIP/big-{n}") for n in range(200)]))


def absurdly_many_rows(setup: Setup) -> None:
    # Every row readable and a different caller each, as a PBX listing garbage would send them.
    setup.pbx.sim.set_fault("raw", body=_many_rows_answer())


@functools.cache
def _many_rows_answer() -> bytes:
    return answer(*[row(f"SIP/flood-{n}", src=f"90532{n:07d}") for n in range(100_000)])


def clear_faults(setup: Setup, url: str) -> None:
    setup.pbx.sim.set_fault(None)
    setup.settings.TELSAM_API_URL = url
    setup.settings.TELSAM_API_PASSWORD = PBX_PASSWORD
    setup.monkeypatch.undo()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def row(channel: str, **fields) -> dict:
    return {
        "channel": channel,
        "duration": "00:00:42",
        "calltype": "Kuyruk(630)",
        "callinfo": TALKING,
        "src": AYSE,
        "dst": "110",
        **fields,
    }


@dataclass(frozen=True)
class Outage:
    name: str
    start: Action
    reason: str  # pbx.reason
    words: str  # part of pbx.error


OUTAGES = [
    Outage("refused", lambda s: pbx_url(f"http://127.0.0.1:{closed_port()}/")(s), "unreachable",
           "connection refused"),
    Outage("dns_failure", pbx_url("http://pbx.invalid/"), "unreachable", "host name not found"),
    Outage("not_configured", pbx_url(""), "not_configured", "TELSAM_API_URL"),
    Outage("dropped_connection", fault("hang", latency=0.05), "unreachable",
           "closed the connection"),
    Outage("slower_than_the_timeout", fault("latency", latency=1.5), "timeout",
           "did not answer within 0.5 s"),
    Outage("trickling_past_the_timeout", fault("trickle", latency=6.0), "timeout",
           "did not answer within 0.5 s"),
    Outage("http_500", fault("http_500"), "http_error", "HTTP 500"),
    Outage("http_502_html", raw(b"<html><h1>502 Bad Gateway</h1></html>", 502, "text/html"),
           "http_error", "HTTP 502"),
    Outage("http_503_empty", raw(b"", 503), "http_error", "HTTP 503"),
    Outage("http_404", raw(b"Not Found", 404, "text/plain"), "http_error", "HTTP 404"),
    Outage("http_403", raw(b"<h1>Forbidden</h1>", 403, "text/html"), "http_error", "HTTP 403"),
    Outage("html_page_with_200", fault("html"), "bad_response", "HTML"),
    Outage("truncated_json", fault("truncated"), "bad_response", "invalid JSON"),
    Outage("invalid_json", raw(b'[{"success": tru, "data": [}]'), "bad_response", "invalid JSON"),
    Outage("empty_body", raw(b""), "bad_response", "empty body"),
    Outage("binary_garbage", raw(bytes(range(256)) * 4, content_type="application/octet-stream"),
           "bad_response", "invalid JSON"),
    Outage("absurdly_deep_json", raw(b"[" * 200_000), "bad_response", "invalid JSON"),
    Outage("larger_than_allowed", larger_than_allowed, "bad_response", "larger than"),
    Outage("absurdly_many_rows", absurdly_many_rows, "bad_response", "100,000 calls"),
    Outage("success_false", fault("success_false"), "rejected", "03: Domain adı hatalı"),
    Outage("success_false_as_text", fault("reshape", envelope={"success": "false"}), "rejected",
           "refused"),
    Outage("wrong_credentials", wrong_password, "rejected", "05: Kullanıcı bilgileri"),
    Outage("success_missing", fault("reshape", envelope={"success": None}), "bad_response",
           "no success field"),
    Outage("two_envelopes", raw(answer(row("SIP/a-1"))[:-1] + b', {"success": true}]'),
           "bad_response", "one object in a list"),
    Outage("a_json_string", raw(b'"OK"'), "bad_response", "expected a JSON object"),
    Outage("data_as_text", fault("reshape", envelope={"data": "kayıt yok"}), "bad_response",
           "data is not a list"),
    Outage("data_as_an_object_that_is_no_row", fault("reshape", envelope={"data": {"hata": 1}}),
           "bad_response", "no usable call rows"),
    Outage("rows_without_a_channel", fault("reshape", row={"channel": None}), "bad_response",
           "row has no channel"),
    Outage("channel_as_an_object", fault("reshape", row={"channel": {"id": 7}}), "bad_response",
           "row has no channel"),
    Outage("channel_longer_than_any_real_one",
           fault("reshape", row={"channel": "SIP/" + "x" * 5000}), "bad_response",
           "channel is longer than"),
    Outage("rows_that_are_not_objects", raw(answer("SIP/a-1", 42, None, ["x"])), "bad_response",
           "no usable call rows"),
]  # fmt: skip


@pytest.fixture
def setup(pbx_settings, settings, monkeypatch) -> Setup:
    return Setup(pbx=pbx_settings, settings=settings, monkeypatch=monkeypatch)


@pytest.mark.parametrize("outage", OUTAGES, ids=[o.name for o in OUTAGES])
async def test_an_outage_keeps_the_last_calls_says_why_and_recovers_by_itself(
    setup, alice, outage, caplog
):
    caplog.set_level(logging.DEBUG)
    sim, url = setup.pbx.sim, setup.settings.TELSAM_API_URL
    stays = sim.add_call(AYSE, "110", callinfo=TALKING)
    ends = sim.add_call(OTHER, "111", callinfo=TALKING)
    assert await poll() == "ok"
    panel, before = await connected_panel(alice)
    assert channels(before["calls"]) == {stays, ends}
    assert before["pbx"]["ok"] is True

    outage.start(setup)
    sent = []
    for _ in range(POLLS_DURING_OUTAGE):
        started = time.monotonic()
        assert await poll() == "pbx_error"  # each poll completes: the poller keeps running
        # ... and in time for the next: the client's deadline holds whatever the PBX does.
        assert time.monotonic() - started < POLL_TIME_BOUND
        text, message = await next_message(panel)
        sent.append(text)
        assert (message["added"], message["changed"], message["removed"]) == ([], [], [])
        assert message["pbx"]["ok"] is False
        assert message["pbx"]["reason"] == outage.reason
        assert outage.words in message["pbx"]["error"]
        assert message["pbx"]["last_ok_at"] == before["pbx"]["last_ok_at"]
    during = await resync(panel)  # a page opened during the outage sees the same
    assert channels(during["calls"]) == {stays, ends}
    assert (during["pbx"]["ok"], during["pbx"]["reason"]) == (False, outage.reason)

    clear_faults(setup, url)
    sim.end_call(ends)
    arrives = sim.add_call("902161112233", "110")
    assert await poll() == "ok"
    text, recovered = await next_message(panel)
    sent.append(text)
    assert recovered["pbx"]["ok"] is True
    assert (recovered["pbx"]["reason"], recovered["pbx"]["error"]) == (None, None)
    assert channels(recovered["added"]) == {arrives}
    assert recovered["removed"] == [ends]
    await panel.disconnect()

    for text in sent:
        assert_no_secret(text)
    assert_no_secret(caplog.text)
    assert caplog.text.count("PBX poll failed") == 1  # said once, not once per poll
    assert "PBX poll recovered" in caplog.text
    assert await sync_to_async(poll_counters)() == {"ok": 2, "pbx_error": POLLS_DURING_OUTAGE}


# --- answers that are odd but usable -------------------------------------------------------------


@dataclass(frozen=True)
class Oddity:
    name: str
    serve: Action
    check: Callable[[dict, str], None]  # the first diff after it; the simulator's own call


def the_call_as_sent(diff: dict, channel: str) -> None:
    [call] = diff["added"]
    assert call["channel"] == channel
    assert (call["src"], call["dst"], call["callinfo"], call["queue"]) == (
        AYSE,
        "110",
        TALKING,
        "630",
    )
    assert call["customer"]["name"] == "Ayşe Yılmaz"


def the_raw_call(diff: dict, channel: str) -> None:
    [call] = diff["added"]
    assert (call["channel"], call["callinfo"], call["src"]) == ("SIP/raw-1", TALKING, AYSE)


def bounded(diff: dict, channel: str) -> None:
    [call] = diff["added"]
    assert call["channel"] == channel
    for name in ("callinfo", "calltype", "dst"):
        assert 0 < len(call[name]) <= MAX_TEXT_CHARS
    assert call["callinfo"].startswith("ÇÇÇ") and call["callinfo"].endswith("…")


def replaced_not_utf8(diff: dict, channel: str) -> None:
    [call] = diff["added"]
    # "Konuşuyor" in Windows-1254: the ş byte is not UTF-8 and becomes U+FFFD, the rest survives.
    assert call["callinfo"] == "Konu\ufffduyor"
    assert call["src"] == AYSE


def clean(diff: dict, channel: str) -> None:
    [call] = diff["added"]
    for name in ("callinfo", "calltype", "src"):
        assert not any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in call[name])
    assert (call["callinfo"], call["calltype"]) == ("\ufffdKonu uyor", "\ufffd")


def just_started(diff: dict, channel: str) -> None:
    [call] = diff["added"]
    # Read as "just started" rather than overflowing the calendar.
    assert datetime.fromisoformat(call["started_at"]) == datetime.fromisoformat(diff["at"])


def only_the_readable_row(diff: dict, channel: str) -> None:
    assert channels(diff["added"]) == {"SIP/raw-1"}


def thousands(diff: dict, channel: str) -> None:
    assert len(diff["added"]) == len(channels(diff["added"])) == 3001


def slow_but_in_time(setup: Setup) -> None:
    setup.settings.TELSAM_POLL_INTERVAL = 0.5
    setup.settings.TELSAM_API_TIMEOUT = 3.0
    setup.pbx.sim.set_fault("latency", latency=0.8)


ODDITIES = [
    Oddity("count_as_text", fault("reshape", envelope={"count": "1"}), the_call_as_sent),
    Oddity("count_that_disagrees", fault("reshape", envelope={"count": 250}), the_call_as_sent),
    Oddity(
        "extra_fields",
        fault(
            "reshape",
            envelope={"version": "2.1", "server": {"name": "pbx1"}},
            row={"uniqueid": "1732.55", "agent": {"name": "x"}, "tags": [1, 2]},
        ),
        the_call_as_sent,
    ),
    Oddity("numbers_as_json_numbers", fault("reshape", row={"src": int(AYSE), "dst": 110}),
           the_call_as_sent),
    Oddity("duplicate_rows", fault("reshape", repeat=3), the_call_as_sent),
    Oddity(
        "duplicate_channel_in_two_states",
        raw(answer(row("SIP/raw-1", callinfo="Çalıyor"), row("SIP/raw-1"))),
        the_raw_call,
    ),
    Oddity(
        "data_as_one_bare_row",
        raw(json.dumps([{"success": True, "count": 1, "data": row("SIP/raw-1")}])),
        the_raw_call,
    ),
    Oddity(
        "an_unknown_charset",
        raw(answer(row("SIP/raw-1")), content_type="application/json; charset=x-klingon"),
        the_raw_call,
    ),
    Oddity(
        "very_long_strings",
        fault("reshape", row={"callinfo": "Ç" * 100_000, "calltype": "K" * 50_000,
                              "dst": "1" * 9000}),
        bounded,
    ),
    Oddity("not_utf8", fault("reshape", encoding="cp1254"), replaced_not_utf8),
    Oddity(
        "control_characters_and_lone_surrogates",
        raw(answer(row("SIP/raw-1", callinfo="\ud800Konu\x00uyor\x1b", calltype="\udfff\x07"))),
        clean,
    ),
    Oddity("absurd_duration", fault("reshape", row={"duration": "99999999:00:00"}), just_started),
    Oddity(
        "unreadable_rows_beside_a_good_one",
        raw(answer(row("SIP/raw-1"), row(None), "SIP/x", 42, row("SIP/" + "x" * 500))),
        only_the_readable_row,
    ),
    Oddity(
        "channels_that_would_have_to_be_altered_beside_a_good_one",
        raw(answer(row("SIP/raw-1"), row("SIP/raw\t-2"), row(" SIP/raw-3"), row("SIP/raw-4\x85"))),
        only_the_readable_row,
    ),
    Oddity("thousands_of_calls", lambda s: s.pbx.sim.add_calls(3000), thousands),
    Oddity("slower_than_the_poll_interval", slow_but_in_time, the_call_as_sent),
]  # fmt: skip


@pytest.fixture
def ayse(db):
    return customer_create(name="Ayşe Yılmaz", phones=["0532 123 45 67"])


@pytest.mark.parametrize("oddity", ODDITIES, ids=[o.name for o in ODDITIES])
async def test_an_odd_but_usable_answer_is_read_as_calls(setup, alice, ayse, oddity, caplog):
    caplog.set_level(logging.DEBUG)
    sim = setup.pbx.sim
    channel = sim.add_call(AYSE, "110", callinfo=TALKING, calltype="Kuyruk(630)", elapsed=42)
    panel, _ = await connected_panel(alice)

    oddity.serve(setup)
    assert await poll() == "ok"
    text, first = await next_message(panel)
    assert first["pbx"] == {**first["pbx"], "ok": True, "reason": None, "error": None}
    oddity.check(first, channel)
    assert await poll() == "ok"  # the same odd answer again is no change: nothing flaps
    _, again = await next_message(panel)
    assert (again["added"], again["changed"], again["removed"]) == ([], [], [])
    snapshot = await resync(panel)
    assert channels(snapshot["calls"]) == channels(first["added"])
    await panel.disconnect()

    text.encode("utf-8")  # what reached the page is valid UTF-8 (Redis would have refused it)
    assert_no_secret(text)
    assert_no_secret(caplog.text)
