"""The live websocket's protocol rules against the whole stack (docs/websocket-protocol.md): what
the real web server does with hostile input, and how a real page recovers when the stored state
goes back to an older copy.

The hostile clients speak the protocol with the `websockets` library from a thread of their own
(the module's Chromium is driven from the main thread); the other panels are protocol clients
too, so their timing is measured without a browser in between.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from playwright.sync_api import expect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from calls.live.snapshot import SNAPSHOT_KEY
from calls.simulator import PbxSimulator
from tests.support.personas import ALICE, AYSE, Persona
from tests.support.stack import POLL_INTERVAL, PanelStack

pytestmark = pytest.mark.e2e

RESYNC = json.dumps({"type": "resync"})
# A call reaches a panel by the next poll; one more interval of slack for a busy machine.
ON_TIME_S = 2 * POLL_INTERVAL
CLOSE_MESSAGE_TOO_BIG = 1009
FLOOD_PER_SECOND = 1000
FLOOD_SECONDS = 3.0
ROW = '#calls-body tr.call-row[data-channel="{channel}"]'


def session_cookie(stack: PanelStack, persona: Persona) -> str:
    """Log in through the login form as a browser does; the `Cookie` header of that session."""
    browser = requests.Session()
    browser.get(f"{stack.url}/accounts/login/", timeout=10)
    response = browser.post(
        f"{stack.url}/accounts/login/",
        {
            "username": persona.username,
            "password": persona.password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return f"sessionid={browser.cookies['sessionid']}"


def open_socket(stack: PanelStack, cookie: str):
    return connect(
        stack.url.replace("http://", "ws://") + "/ws/calls/",
        origin=stack.url,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
        open_timeout=20,
        ping_interval=None,  # browsers send no pings
        max_size=None,
    )


@dataclass
class Panel:
    """A panel that keeps reading: when each call first reached it, and every message."""

    socket: ClientConnection
    arrived: dict[str, float] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def read(self) -> None:
        async for text in self.socket:
            message = json.loads(text)
            self.messages.append(message)
            for call in message.get("added", []):
                self.arrived.setdefault(call["channel"], time.monotonic())

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]


async def until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def closed_with(socket: ClientConnection, text: str) -> int | None:
    """Send `text` and return the close code the server answers with (None: still open)."""
    try:
        await socket.send(text)
        await asyncio.wait_for(socket.wait_closed(), timeout=5)
    except ConnectionClosed:
        pass
    except TimeoutError:
        return None
    return socket.close_code


async def flood_with_resyncs(socket: ClientConnection) -> int:
    """FLOOD_PER_SECOND resyncs a second for FLOOD_SECONDS; how many were sent."""
    started, sent = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < FLOOD_SECONDS:
        for _ in range(int(elapsed * FLOOD_PER_SECOND) - sent):
            await socket.send(RESYNC)
            sent += 1
        await asyncio.sleep(0.005)
    return sent


async def attack(stack: PanelStack, sim: PbxSimulator, cookie: str) -> dict[str, Any]:
    """Three panels watch calls arrive while other sockets of the same user misbehave."""
    async with (
        open_socket(stack, cookie) as first,
        open_socket(stack, cookie) as second,
        open_socket(stack, cookie) as third,
        open_socket(stack, cookie) as flooder_socket,
    ):
        watchers = [Panel(first), Panel(second), Panel(third)]
        flooder = Panel(flooder_socket)
        readers = [asyncio.create_task(p.read()) for p in (*watchers, flooder)]
        assert await until(lambda: all(p.messages for p in (*watchers, flooder)), 10)

        outcome: dict[str, Any] = {}
        async with open_socket(stack, cookie) as socket:
            outcome["4 MB"] = await closed_with(socket, "x" * 4_000_000)
        async with open_socket(stack, cookie) as socket:
            outcome["deep"] = await closed_with(socket, "[" * 200_000)
        async with open_socket(stack, cookie) as socket:
            junk = Panel(socket)
            reading = asyncio.create_task(junk.read())
            assert await until(lambda: junk.messages, 10)
            for text in ("not json", "[" * 3000, '{"type": "nope"}', "[1, 2]", '"resync"'):
                await socket.send(text)
            await socket.send(b"\x00\x01binary")
            await socket.send(RESYNC)
            # Still open, and the resync after the junk is answered.
            outcome["junk answered"] = await until(lambda: len(junk.of_type("snapshot")) == 2, 5)
            reading.cancel()

        # Calls keep arriving on time for everyone else while one socket floods.
        added: dict[str, float] = {}

        async def keep_calling() -> None:
            for n in range(int(FLOOD_SECONDS / 0.5)):
                added[sim.add_call(f"9053200000{n:02d}", "110")] = time.monotonic()
                await asyncio.sleep(0.5)

        snapshots_before = len(flooder.of_type("snapshot"))
        flood_started = time.monotonic()
        outcome["resyncs sent"], _ = await asyncio.gather(
            flood_with_resyncs(flooder_socket), keep_calling()
        )
        # The flood's last resync is answered all the same, with the state it was sent in.
        latest = max(d["seq"] for p in watchers for d in p.of_type("diff"))
        outcome["answered after the flood"] = await until(
            lambda: flooder.of_type("snapshot")[-1]["seq"] >= latest, 5
        )
        outcome["snapshots during the flood"] = len(flooder.of_type("snapshot")) - snapshots_before
        outcome["flood seconds"] = time.monotonic() - flood_started
        assert await until(lambda: all(set(added) <= set(p.arrived) for p in watchers), 10), (
            "a call never reached a panel"
        )
        outcome["late"] = sorted(
            (p.arrived[channel] - at, channel)
            for p in watchers
            for channel, at in added.items()
            if p.arrived[channel] - at > ON_TIME_S
        )
        outcome["gaps"] = [
            (a["seq"], b["seq"])
            for p in watchers
            for a, b in zip(p.of_type("diff"), p.of_type("diff")[1:], strict=False)
            if b["seq"] != a["seq"] + 1
        ]
        for reader in readers:
            reader.cancel()
        return outcome


@pytest.fixture
def in_a_thread() -> Iterator[ThreadPoolExecutor]:
    """A thread for asyncio code: the main thread's event loop belongs to Playwright."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="protocol") as thread:
        yield thread


def test_oversized_junk_and_resync_floods_cost_one_socket_nothing_of_the_others(
    stack, sim, in_a_thread
):
    cookie = session_cookie(stack, ALICE)
    log_start = stack.web.log_offset()

    outcome = in_a_thread.submit(asyncio.run, attack(stack, sim, cookie)).result(timeout=120)

    assert outcome["4 MB"] == CLOSE_MESSAGE_TOO_BIG
    assert outcome["deep"] == CLOSE_MESSAGE_TOO_BIG
    assert outcome["junk answered"], "junk closed the socket or left the resync unanswered"
    assert outcome["resyncs sent"] >= 0.9 * FLOOD_PER_SECOND * FLOOD_SECONDS
    # The documented allowance: five at once, then one a second.
    assert outcome["snapshots during the flood"] <= 5 + outcome["flood seconds"]
    assert outcome["answered after the flood"], "the flood's last resync went unanswered"
    assert outcome["late"] == [], f"calls reached panels later than {ON_TIME_S} s"
    assert outcome["gaps"] == [], "a panel missed a diff"
    log = stack.web.log_since(log_start)
    assert "Traceback" not in log and "Exception in ASGI" not in log, log[-3000:]


# --- the stored state goes back -------------------------------------------------------------------


def restore_older_copy(stack: PanelStack, copy: str) -> None:
    """Put an older snapshot back in Redis, as a restore from a backup or a lagging replica would,
    and wait until a poll continued from it (a poll running at that moment would overwrite it)."""
    seq = json.loads(copy)["seq"]
    for _ in range(3):
        stack.redis.set(SNAPSHOT_KEY, copy)
        if stack.wait_for_snapshot(lambda s, seq=seq: s["seq"] != seq)["seq"] == seq + 1:
            return
    pytest.fail("every restored copy was overwritten by a poll already running")


def test_a_page_resynchronises_when_the_stored_state_goes_back_to_an_older_copy(
    stack, sim, page_for
):
    page = page_for(ALICE)
    stays = sim.add_call(AYSE.pbx_number, "110")
    copy = json.dumps(stack.wait_for_channels(stays))
    ends = sim.add_call("905421112233", "111")
    expect(page.locator(ROW.format(channel=ends))).to_be_visible()
    # The page is a few polls ahead of the copy.
    stack.wait_for_snapshot(lambda s: s["seq"] >= json.loads(copy)["seq"] + 3)

    restore_older_copy(stack, copy)
    sim.end_call(ends)
    arrives = sim.add_call("902161112233", "112")

    # Diffs continue from the copy with seqs the page has already passed: they are news, not
    # duplicates of its snapshot, and only a fresh snapshot puts the page right.
    expect(page.locator(ROW.format(channel=arrives))).to_be_visible()
    expect(page.locator(ROW.format(channel=ends))).to_have_count(0)
    expect(page.locator(ROW.format(channel=stays))).to_be_visible()
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "live")
