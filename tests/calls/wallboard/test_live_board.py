"""The wallboard end to end: simulator over HTTP → real poll task → real Redis → the wallboard's
websockets (a supervisor's, a display link's), as a browser receives them."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from calls.live.session_watch import Standing
from calls.models import CallRecord, WallboardQueue
from calls.wallboard.board_config import forget_board_config
from calls.wallboard.display_links import create_display_link, revoke
from calls.wallboard.live_board import note_cdr_counts
from customers.services import customer_create
from tests.support.live_socket import open_socket, poll

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("live_redis"),
]

AYSE = "905321234567"
MEHMET = "905339876543"
FATMA = "905551112233"
QUEUED = {"calltype": "Kuyruk(630)", "callinfo": "Kuyrukta"}


@pytest.fixture(autouse=True)
def _fresh_config():
    forget_board_config()
    yield
    forget_board_config()


async def connected(path: str, user=None) -> tuple[WebsocketCommunicator, dict]:
    socket = await open_socket(path, user)
    accepted, _ = await socket.connect()
    assert accepted
    return socket, await socket.receive_json_from(timeout=3)


async def board_after_poll(socket: WebsocketCommunicator) -> dict:
    await poll()
    message = await socket.receive_json_from(timeout=3)
    assert message["type"] == "wallboard"
    return message


def queue(board: dict, name: str) -> dict:
    [row] = [row for row in board["queues"] if row["queue"] == name]
    return row


def extension(board: dict, name: str) -> dict:
    [tile] = [tile for tile in board["extensions"] if tile["extension"] == name]
    return tile


async def test_a_supervisor_s_board_counts_the_waiting_calls_and_moves_when_one_is_answered(
    pbx_settings, sam
):
    await sync_to_async(customer_create)(name="Ayşe Yılmaz", phones=["0532 123 45 67"])
    socket, first = await connected("/ws/wallboard/", sam)
    # No poll has run yet: an empty board, stale, that says so.
    assert (first["waiting"], first["stale"], first["queues"]) == (True, True, [])
    sim = pbx_settings.sim
    ayse = sim.add_call(AYSE, "630", **QUEUED)
    await board_after_poll(socket)
    sim.add_call(MEHMET, "630", **QUEUED)
    sim.add_call(FATMA, "630", **QUEUED)

    board = await board_after_poll(socket)
    row = queue(board, "630")
    assert (row["waiting"], row["talking"], row["answered"]) == (3, 0, 0)
    first_seen = row["longest_waiting_since"]
    assert first_seen is not None and first_seen < board["at"]
    assert (board["total"]["waiting"], board["stale"]) == (3, False)

    sim.update_call(ayse, dst="101", callinfo="Konuşuyor")
    board = await board_after_poll(socket)
    row = queue(board, "630")
    assert (row["waiting"], row["talking"], row["answered"], row["offered"]) == (2, 1, 1, 1)
    assert row["longest_waiting_since"] > first_seen  # Ayşe's wait is over: Mehmet's is longest
    tile = extension(board, "101")
    assert (tile["state"], tile["party_display"], tile["customer"]) == (
        "talking",
        "0532 123 45 67",
        "Ayşe Yılmaz",
    )
    await socket.disconnect()


async def test_a_queue_past_its_threshold_carries_its_alert_and_clears_when_back(pbx_settings, sam):
    await sync_to_async(WallboardQueue.objects.create)(
        queue="630", name="Satış", waiting_amber=1, waiting_red=2
    )
    sim = pbx_settings.sim
    socket, _ = await connected("/ws/wallboard/", sam)
    first = sim.add_call(AYSE, "630", **QUEUED)
    row = queue(await board_after_poll(socket), "630")
    assert (row["name"], row["level"]) == ("Satış", "amber")
    second = sim.add_call(MEHMET, "630", **QUEUED)
    row = queue(await board_after_poll(socket), "630")
    assert row["level"] == "red"
    assert row["alerts"] == [{"figure": "waiting", "level": "red", "threshold": 2}]
    sim.end_call(first)
    sim.end_call(second)
    row = queue(await board_after_poll(socket), "630")
    assert (row["waiting"], row["level"], row["alerts"]) == (0, "ok", [])
    await socket.disconnect()


async def test_a_pbx_outage_greys_the_board_and_loses_no_waiting_call(pbx_settings, sam, settings):
    sim = pbx_settings.sim
    socket, _ = await connected("/ws/wallboard/", sam)
    sim.add_call(AYSE, "630", **QUEUED)
    await board_after_poll(socket)
    settings.TELSAM_API_URL = "http://127.0.0.1:9/"  # nothing listens there
    board = await board_after_poll(socket)
    assert (board["stale"], board["pbx_ok"], queue(board, "630")["waiting"]) == (True, False, 1)
    assert queue(board, "630")["abandoned"] == 0
    settings.TELSAM_API_URL = pbx_settings.url
    board = await board_after_poll(socket)
    assert (board["stale"], queue(board, "630")["waiting"]) == (False, 1)
    await socket.disconnect()


async def test_an_agent_may_not_open_the_board_and_anonymous_visitors_log_in_first(alice):
    for user, code in ((alice, Standing.FORBIDDEN), (None, Standing.SESSION_ENDED)):
        socket = await open_socket("/ws/wallboard/", user)
        accepted, _ = await socket.connect()
        assert accepted
        assert (await socket.receive_output(timeout=3))["code"] == code.value
        await socket.disconnect()


async def test_a_display_link_shows_the_board_masked_and_stops_when_revoked(
    pbx_settings, sam, quick_session_checks
):
    await sync_to_async(customer_create)(name="Ayşe Yılmaz", phones=["0532 123 45 67"])
    link, token = await sync_to_async(create_display_link)("Koridor TV", sam)
    socket, _ = await connected(f"/ws/display/{token}/")
    pbx_settings.sim.add_call(AYSE, "101", callinfo="Konuşuyor", calltype="Kuyruk(630)")
    board = await board_after_poll(socket)
    tile = extension(board, "101")
    assert tile["state"] == "talking"
    assert tile["party_display"].endswith("67") and "532" not in tile["party_display"]
    assert (tile["customer"], tile["party"]) == (None, None)
    assert AYSE not in str(board) and "Ayşe" not in str(board)

    await sync_to_async(revoke)(link, sam, timezone.now())
    closed = await socket.receive_output(timeout=3)  # within a few session checks
    assert closed == {"type": "websocket.close", "code": Standing.REVOKED.value}
    await socket.disconnect()

    socket = await open_socket(f"/ws/display/{token}/")
    accepted, _ = await socket.connect()
    assert accepted
    assert (await socket.receive_output(timeout=3))["code"] == Standing.REVOKED.value
    await socket.disconnect()


async def test_the_cdr_corrects_today_s_counts_at_the_next_poll(pbx_settings, sam):
    now = timezone.now()
    for n, disposition in enumerate(["ANSWERED", "ANSWERED", "NO ANSWER"]):
        await sync_to_async(CallRecord.objects.create)(
            pbx_id=f"cdr-{n}", calldate=now, direction="in", src=AYSE, dst="101",
            outside_number="+" + AYSE, duration=30, disposition=disposition, queue="630",
        )  # fmt: skip
    socket, _ = await connected("/ws/wallboard/", sam)
    await board_after_poll(socket)
    await sync_to_async(note_cdr_counts)()
    row = queue(await board_after_poll(socket), "630")
    assert (row["offered"], row["answered"], row["abandoned"]) == (3, 2, 1)
    assert row["corrected_at"] is not None
    await socket.disconnect()
