"""The live pipeline end to end: simulator over HTTP → real poll task → real Redis → websocket.

Each test drives the simulator, runs the real Celery task (`apply`, in this process) and reads what
a connected browser would receive through the real Redis channel layer and session authentication.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from calls.live.consumer import CLOSE_UNAUTHENTICATED
from calls.live.snapshot import SNAPSHOT_KEY, poll_counters, redis_client
from customers.services import customer_create
from telsam_panel.asgi import application
from tests.support.live_socket import ORIGIN, connected_panel, next_diff, open_panel, poll
from tests.support.pbx import PBX_PASSWORD
from tests.support.services import redis_database
from tests.support.waiting import until

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("live_redis"),
]

AYSE_AS_PBX_SENDS_IT = "905321234567"


@pytest.fixture
def ayse(db):
    # Stored the way a person typed it, not the way the PBX sends it.
    return customer_create(name="Ayşe Yılmaz", company="Yılmaz Tekstil", phones=["0532 123 45 67"])


async def test_a_new_call_reaches_the_panel_with_its_customer_matched_across_formats(
    pbx_settings, alice, ayse
):
    panel, _ = await connected_panel(alice)
    channel = pbx_settings.sim.add_call(AYSE_AS_PBX_SENDS_IT, "110", calltype="Kuyruk(630)")

    await poll()

    diff = await next_diff(panel)
    [call] = diff["added"]
    assert call["channel"] == channel
    assert call["customer"]["name"] == "Ayşe Yılmaz"
    assert call["customer"]["id"] == ayse.pk
    assert call["customer"]["url"] == ayse.get_admin_url()
    assert (call["src_display"], call["queue"], call["direction"]) == (
        "0532 123 45 67",
        "630",
        "in",
    )
    await panel.disconnect()


async def test_an_unknown_caller_arrives_without_a_customer(pbx_settings, alice):
    panel, _ = await connected_panel(alice)
    pbx_settings.sim.add_call("905559998877", "110")
    await poll()
    [call] = (await next_diff(panel))["added"]
    assert call["customer"] is None
    await panel.disconnect()


async def test_a_state_change_is_changed_and_ticking_alone_is_nothing(pbx_settings, alice):
    channel = pbx_settings.sim.add_call(AYSE_AS_PBX_SENDS_IT, "110", callinfo="Çalıyor")
    panel, _ = await connected_panel(alice)
    await poll()
    added = (await next_diff(panel))["added"][0]

    pbx_settings.sim.update_call(channel, callinfo="Konuşuyor")
    await poll()
    diff = await next_diff(panel)
    assert [c["callinfo"] for c in diff["changed"]] == ["Konuşuyor"]
    assert diff["changed"][0]["started_at"] == added["started_at"]

    await poll()  # the PBX's duration has moved on; nothing else has
    diff = await next_diff(panel)
    assert (diff["added"], diff["changed"], diff["removed"]) == ([], [], [])
    await panel.disconnect()


async def test_an_ended_call_is_removed(pbx_settings, alice):
    channel = pbx_settings.sim.add_call(AYSE_AS_PBX_SENDS_IT, "110")
    await poll()
    panel, snapshot = await connected_panel(alice)
    assert [c["channel"] for c in snapshot["calls"]] == [channel]

    pbx_settings.sim.end_call(channel)
    await poll()
    assert (await next_diff(panel))["removed"] == [channel]
    await panel.disconnect()


async def test_every_poll_sends_a_heartbeat_with_the_next_seq(pbx_settings, alice):
    await poll()
    panel, snapshot = await connected_panel(alice)
    await poll()
    await poll()
    first, second = await next_diff(panel), await next_diff(panel)
    assert [first["seq"], second["seq"]] == [snapshot["seq"] + 1, snapshot["seq"] + 2]
    assert first["run"] == second["run"] == snapshot["run"]
    assert first["pbx"]["ok"] is True
    await panel.disconnect()


async def test_resync_answers_with_a_fresh_snapshot(pbx_settings, alice):
    panel, _ = await connected_panel(alice)
    channel = pbx_settings.sim.add_call(AYSE_AS_PBX_SENDS_IT, "110")
    await poll()
    diff = await next_diff(panel)

    await panel.send_json_to({"type": "resync"})
    snapshot = await panel.receive_json_from(timeout=3)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == diff["seq"]
    assert [c["channel"] for c in snapshot["calls"]] == [channel]
    await panel.disconnect()


async def test_a_reset_state_starts_a_new_run(pbx_settings, alice, live_redis):
    await poll()
    panel, snapshot = await connected_panel(alice)
    await sync_to_async(live_redis.delete)(SNAPSHOT_KEY)  # e.g. Redis lost its data
    await poll()
    diff = await next_diff(panel)
    assert diff["run"] != snapshot["run"]
    assert diff["seq"] == 1
    await panel.disconnect()


async def test_before_the_first_poll_the_snapshot_is_empty_and_not_ok(alice):
    panel, snapshot = await connected_panel(alice)
    assert snapshot["calls"] == []
    assert snapshot["pbx"]["ok"] is False
    await panel.disconnect()


async def test_an_anonymous_connection_gets_no_data():
    panel = WebsocketCommunicator(application, "/ws/calls/", headers=[ORIGIN])
    connected, _ = await panel.connect()
    assert connected  # accepted only to be closed with a code the page understands
    closing = await panel.receive_output(timeout=3)
    assert closing == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_connection_from_a_foreign_origin_is_refused(alice):
    panel = await open_panel(alice, origin=(b"origin", b"https://evil.example"))
    connected, _ = await panel.connect()
    assert not connected


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("latency", "did not answer"),
        ("http_500", "HTTP 500"),
        ("html", "HTML"),
        ("truncated", "invalid JSON"),
        ("success_false", "03: Domain adı hatalı"),
    ],
)
async def test_a_pbx_fault_keeps_the_calls_says_why_and_recovers(
    pbx_settings, alice, fault, words, caplog
):
    caplog.set_level(logging.DEBUG)
    channel = pbx_settings.sim.add_call(AYSE_AS_PBX_SENDS_IT, "110")
    await poll()
    panel, _ = await connected_panel(alice)

    pbx_settings.sim.set_fault(fault, latency=1.0 if fault == "latency" else 0.0)
    await poll()
    failed = await panel.receive_from(timeout=5)
    message = json.loads(failed)
    assert message["pbx"]["ok"] is False
    assert words in message["pbx"]["error"]
    assert message["removed"] == []  # the calls are kept, marked stale by pbx.ok
    assert PBX_PASSWORD not in failed and "password=" not in failed
    await panel.send_json_to({"type": "resync"})
    kept = await panel.receive_json_from(timeout=3)
    assert [c["channel"] for c in kept["calls"]] == [channel]
    assert kept["pbx"]["last_ok_at"] is not None

    pbx_settings.sim.set_fault(None)
    pbx_settings.sim.end_call(channel)
    await poll()
    recovered = await next_diff(panel)
    assert recovered["pbx"] == {**recovered["pbx"], "ok": True, "error": None}
    assert recovered["removed"] == [channel]
    await panel.disconnect()
    assert "PBX poll failed: " in caplog.text  # said once, in words
    assert PBX_PASSWORD not in caplog.text
    assert await sync_to_async(poll_counters)() == {"ok": 2, "pbx_error": 1}


def read_outlasting_socket_timeouts(since: float):
    """A condition: a channel-layer connection opened after `since` is blocked reading from
    Redis and has lived longer than redis-py's default socket timeout of 5 s, so idle reads
    survived it (a timed-out read would have dropped the connection and opened a new one)."""
    database = redis_database(settings.REDIS_URL)
    client = redis_client()

    def holds() -> bool:
        lived = time.monotonic() - since
        return any(
            c["db"] == str(database) and c["cmd"] == "bzpopmin" and 6 <= int(c["age"]) <= lived
            for c in client.client_list()
        )

    return holds


@pytest.mark.slow
async def test_a_panel_idle_longer_than_redis_socket_timeouts_still_gets_diffs(pbx_settings, alice):
    # channels-redis blocks on Redis for 5 s at a time; redis-py 8's default 5 s socket timeout
    # would cut those reads unless the layer's socket_timeout is pinned (settings.CHANNEL_LAYERS).
    panel, _ = await connected_panel(alice)
    await until(read_outlasting_socket_timeouts(time.monotonic()), timeout=30, step=0.2)
    pbx_settings.sim.add_call(AYSE_AS_PBX_SENDS_IT, "110")
    await poll()
    assert len((await next_diff(panel))["added"]) == 1
    await panel.disconnect()


async def test_a_panel_closes_when_its_session_expires(alice, settings, quick_session_checks):
    settings.SESSION_COOKIE_AGE = 1
    panel, _ = await connected_panel(alice)
    closing = await panel.receive_output(timeout=4)
    assert closing == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_caller_added_as_customer_during_the_call_gets_their_name(pbx_settings, alice):
    channel = pbx_settings.sim.add_call("905559998877", "110")
    panel, _ = await connected_panel(alice)
    await poll()
    assert (await next_diff(panel))["added"][0]["customer"] is None

    await sync_to_async(customer_create)(name="Yeni Müşteri", phones=["0555 999 88 77"])
    named = None
    for _ in range(6):  # unknown callers are looked up again every few polls
        await poll()
        changed = (await next_diff(panel))["changed"]
        if changed:
            named = changed[0]
            break
    assert named is not None and named["channel"] == channel
    assert named["customer"]["name"] == "Yeni Müşteri"
    await panel.disconnect()


async def test_a_burst_of_panels_connecting_at_once_all_get_their_snapshot(alice):
    # A restarted web server sees every browser come back within a second or two; more
    # simultaneous channel-layer calls than Redis's connection pool allows used to kill sockets.
    await poll()
    panels = [await open_panel(alice) for _ in range(150)]
    try:
        results = await asyncio.gather(*(p.connect(timeout=30) for p in panels))
        assert all(ok for ok, _ in results)
        snapshots = await asyncio.gather(*(p.receive_json_from(timeout=30) for p in panels))
        assert {s["type"] for s in snapshots} == {"snapshot"}
    finally:
        await asyncio.gather(*(p.disconnect() for p in panels), return_exceptions=True)
