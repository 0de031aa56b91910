"""The process fan-out (calls.live.fanout): one group member per web process, every push to every
panel in order, and a socket that stops taking pushes does not hold the others up.

Real Redis channel layer, real poll task against the simulator over HTTP, real consumers behind
the real ASGI application; only the stuck browser is a stand-in, since a test cannot make the ASGI
server's send wait on a full TCP buffer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from calls.live import payloads
from calls.live.consumer import CLOSE_INTERNAL_ERROR
from calls.live.fanout import process_fanout
from calls.live.session_watch import session_watch
from calls.live.snapshot import read_snapshot
from tests.support.live_socket import connected_panel, next_diff, open_panel, poll
from tests.support.processes import Process
from tests.support.services import free_port, redis_server, wait_for_redis
from tests.support.waiting import until

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("live_redis"),
]


async def test_many_panels_in_a_process_are_one_member_of_the_broadcast_group(alice, live_redis):
    await poll()
    panels = [(await connected_panel(alice))[0] for _ in range(20)]
    try:
        members = await sync_to_async(live_redis.zrange)(f"asgi:group:{payloads.GROUP}", 0, -1)
        # One copy of each push travels through Redis for this process, not one per socket.
        assert len(members) == 1
        await poll()
        diffs = await asyncio.gather(*(next_diff(p) for p in panels))
        assert len({d["seq"] for d in diffs}) == 1
    finally:
        await asyncio.gather(*(p.disconnect() for p in panels))


async def test_panels_connecting_while_polls_run_get_their_snapshot_then_every_later_diff(
    pbx_settings, alice
):
    await poll()
    polls = 6

    async def keep_polling() -> None:
        for _ in range(polls):
            pbx_settings.sim.add_call("90532000000" + str(_), "110")
            await poll()
            await asyncio.sleep(0.01)

    panels = [await open_panel(alice) for _ in range(60)]
    try:
        # Connections land before, between and during the polls.
        _, *connected = await asyncio.gather(
            keep_polling(), *(p.connect(timeout=30) for p in panels)
        )
        assert all(ok for ok, _ in connected)
        last_seq = (await sync_to_async(read_snapshot)()).seq
        for panel in panels:
            snapshot = await panel.receive_json_from(timeout=5)
            assert snapshot["type"] == "snapshot"
            seen = snapshot["seq"]
            while seen < last_seq:
                diff = await next_diff(panel)
                # The page skips a seq the snapshot already holds; after that, no gap.
                assert diff["seq"] <= seen + 1, f"diff {diff['seq']} after {seen}: one was lost"
                seen = max(seen, diff["seq"])
        # …and nothing after the last diff, on any panel (all listened to at once).
        assert all(await asyncio.gather(*(p.receive_nothing(timeout=0.2) for p in panels)))
    finally:
        await asyncio.gather(*(p.disconnect() for p in panels))


class RecordingBrowser:
    """A socket that keeps what it was sent."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send(self, text_data: str) -> None:
        self.texts.append(text_data)

    async def close(self) -> None:
        pass


async def test_pushes_that_come_while_a_socket_waits_for_its_snapshot_follow_the_snapshot():
    await poll()
    fanout = process_fanout()
    live, joining = RecordingBrowser(), RecordingBrowser()
    await fanout.add(live)
    await fanout.go_live(live)
    await fanout.add(joining)  # the consumer now reads the snapshot, which takes a while
    await poll()
    await poll()
    await until(lambda: len(live.texts) == 2)
    assert joining.texts == []  # nothing may reach the browser before its snapshot

    await joining.send("the snapshot")
    await fanout.go_live(joining)
    assert joining.texts == ["the snapshot", *live.texts]
    await poll()
    await until(lambda: len(live.texts) == 3)
    assert joining.texts[1:] == live.texts


PUBSUB_LAYER = {
    "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
    # Pub/sub channels span all databases of a Redis server: a prefix of this test's own.
    "CONFIG": {"hosts": [{"address": settings.REDIS_URL}], "prefix": "telsam-test-fanout"},
}


@pytest.mark.parametrize("layer", ["core", "pubsub"])
async def test_after_a_silent_spell_the_listener_renews_its_subscription_and_pushes_flow_again(
    layer, settings, live_redis, caplog
):
    # Silence (no push for three poll intervals) is how a read stuck on a dead connection
    # looks; the listener gives the read up, leaves with its channel and joins with a new one.
    settings.TELSAM_POLL_INTERVAL = 0.1
    if layer == "pubsub":
        settings.CHANNEL_LAYERS = {"default": PUBSUB_LAYER}
    fanout = process_fanout()
    browser = RecordingBrowser()
    await fanout.add(browser)
    await fanout.go_live(browser)
    caplog.set_level(logging.DEBUG, logger="calls.live.fanout")
    await until(lambda: caplog.text.count("renewing the subscription") >= 4, timeout=10)  # no poll

    # A push published during a renewal is lost on the pub/sub layer (the page would resync);
    # once one arrives, the next ones come before any more silence, so four of five must arrive.
    for _ in range(5):
        await poll()
        await asyncio.sleep(0.05)
    await until(lambda: len(browser.texts) >= 4)
    seqs = [json.loads(text)["seq"] for text in browser.texts]
    assert seqs[-4:] == list(range(seqs[-1] - 3, seqs[-1] + 1))
    if layer == "core":
        members = await sync_to_async(live_redis.zrange)(f"asgi:group:{payloads.GROUP}", 0, -1)
        assert len(members) == 1  # the retired channels left the group


class StuckBrowser:
    """A socket whose send never completes, as when the server's buffer for a browser is full."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def send(self, text_data: str) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        self.closed.set()


async def test_a_stuck_socket_is_closed_and_the_others_keep_getting_pushes(pbx_settings, alice):
    await poll()
    stuck = StuckBrowser()
    fanout = process_fanout()
    await fanout.add(stuck)
    await fanout.go_live(stuck)  # first in line: every push reaches it before the real panel
    panel, _ = await connected_panel(alice)
    try:
        await poll()
        first = await panel.receive_json_from(timeout=5)  # after the stuck send is given up
        await asyncio.wait_for(stuck.closed.wait(), timeout=1)
        await poll()
        second = await asyncio.wait_for(next_diff(panel), timeout=0.5)  # no waiting any more
        assert [first["seq"] + 1] == [second["seq"]]
    finally:
        await panel.disconnect()


@pytest.fixture
def own_layer_redis(settings, tmp_path) -> Iterator[Process]:
    """The channel layer on a private Redis the test can stop (a Redis that refuses)."""
    port = free_port()
    server = redis_server(port, tmp_path).start()
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_redis(url)
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}]},
        }
    }
    try:
        yield server
    finally:
        server.stop()


async def test_a_socket_whose_join_fails_is_not_kept(own_layer_redis):
    own_layer_redis.stop()
    fanout = process_fanout()
    with pytest.raises(Exception):  # noqa: B017 - whatever the layer raises for a refused Redis
        await fanout.add(RecordingBrowser())
    assert len(fanout) == 0  # no pushes piling up for a socket nobody will ever discard


async def test_a_panel_whose_connect_fails_closes_with_1011_and_is_kept_nowhere(
    alice, own_layer_redis
):
    own_layer_redis.stop()
    panel = await open_panel(alice)
    connected, _ = await panel.connect(timeout=10)
    assert connected  # accepted, so the page sees the close code and reconnects
    closing = await panel.receive_output(timeout=10)
    assert closing == {"type": "websocket.close", "code": CLOSE_INTERNAL_ERROR}
    assert (len(process_fanout()), len(session_watch())) == (0, 0)


async def test_a_panel_whose_resync_fails_closes_with_1011_and_is_kept_nowhere(
    alice, own_layer_redis
):
    panel, _ = await connected_panel(alice)
    own_layer_redis.stop()
    await panel.send_json_to({"type": "resync"})  # answered at once: within the allowance
    closing = await panel.receive_output(timeout=10)
    assert closing == {"type": "websocket.close", "code": CLOSE_INTERNAL_ERROR}
    assert (len(process_fanout()), len(session_watch())) == (0, 0)


class EndingBrowser(RecordingBrowser):
    """A socket whose session ends (calls.live.session_watch discards it) during its first send."""

    async def send(self, text_data: str) -> None:
        await super().send(text_data)
        process_fanout().discard(self)
        await asyncio.sleep(0)


async def test_a_socket_discarded_while_its_pending_pushes_go_out_gets_no_more():
    await poll()
    fanout = process_fanout()
    live, browser = RecordingBrowser(), EndingBrowser()
    await fanout.add(live)
    await fanout.go_live(live)
    await fanout.add(browser)  # its snapshot is being read
    await poll()
    await poll()
    await until(lambda: len(live.texts) == 2)  # so two pushes wait for `browser`
    fanout.discard(live)
    await fanout.go_live(browser)
    assert len(browser.texts) == 1  # the push being sent when it ended, and nothing after
    assert len(fanout) == 0
