"""Redis fails under a running panel: everything recovers by itself, within 15 s.

Redis is the channel layer, the Celery broker and the live snapshot at once. Here it is a private
server that keeps nothing on disk, reached through a TCP proxy, while the worker, beat and the web
server run and two supervisors' browsers are open. It is killed with SIGKILL (a crash, not a
shutdown) and started again on the same port: the restarted Redis knows no queue, no group
membership, no snapshot, so the next poll starts a new `run`, which the browsers must notice and
resynchronise with. Or the network to it goes silent for a while (the proxy drops everything and
closes nothing), which only timeouts and health checks can notice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from kombu import Connection

from calls.live.snapshot import POLL_COUNTERS_KEY
from calls.simulator import PbxSimulator
from telsam_panel.celery import app as celery_app
from tests.support.pbx import SimulatedPbx
from tests.support.personas import AYSE, SAM, seed_code
from tests.support.processes import Process
from tests.support.services import free_port, redis_server, wait_for_redis
from tests.support.stack import PanelStack
from tests.support.tcp_proxy import TcpProxy
from tests.support.threaded_browser import Chromium, PanelPage
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# The bound: from the moment Redis answers again to polls, pages and queue all working.
RECOVERY_S = 15.0
UNKNOWN_NUMBER = "905421112233"
TALKING = "Konuşuyor"
RINGING = "Çalıyor"


@dataclass
class PrivateRedis:
    server: Process
    url: str  # through the proxy, for the panel's processes
    client: redis.Redis  # straight to the server, for the test
    proxy: TcpProxy

    def crash(self) -> None:
        self.server.kill()

    def start(self) -> None:
        self.server.start()
        wait_for_redis(self.url)  # through the proxy, as the panel will

    def polls_ok(self) -> int:
        """Successful polls since Redis (re)started."""
        try:
            return int(self.client.hget(POLL_COUNTERS_KEY, "ok") or 0)
        except redis.ConnectionError:
            return 0


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    port = free_port()
    proxy = TcpProxy("127.0.0.1", port)
    private = PrivateRedis(
        redis_server(port, tmp_path_factory.mktemp("redis")),
        f"redis://127.0.0.1:{proxy.port}/0",
        redis.Redis(port=port),
        proxy,
    )
    try:
        private.start()
        yield private
    finally:
        private.client.close()
        proxy.close()
        private.server.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    private_redis: PrivateRedis,
    simulated_pbx: SimulatedPbx,
) -> Iterator[PanelStack]:
    panel = PanelStack(
        tmp_path_factory.mktemp("stack"),
        simulated_pbx.url,
        private_redis.client,
        poll_interval=1.0,
        api_timeout=1.0,
        redis_url=private_redis.url,
        # No scheduled history sync during the test: the one the test queues is the only one.
        extra_env={"TELSAM_CDR_SYNC_INTERVAL": "3600"},
    )
    with panel.serving(seed_code()):
        yield panel


@pytest.fixture(scope="module")
def panels(chromium: Chromium, stack: PanelStack) -> list[PanelPage]:
    """Two supervisors' panels, open through every restart of the module, both as unlucky as
    can be in their reconnection backoff."""
    return [chromium.open_panel(stack.url, SAM, unluckiest=True) for _ in range(2)]


@pytest.fixture
def sim(
    stack: PanelStack, simulated_pbx: SimulatedPbx, private_redis: PrivateRedis
) -> PbxSimulator:
    """The simulator with no calls, and the panel caught up with that. Whatever a failed test
    left broken is mended first."""
    private_redis.proxy.restore()
    if not private_redis.server.running:
        private_redis.start()
    if not stack.beat.running:
        stack.beat.start()
    simulated_pbx.sim.reset()
    stack.wait_for_channels(timeout=10)
    simulated_pbx.sim.clear_request_log()
    return simulated_pbx.sim


def wait_until_shown(panels: list[PanelPage], channels: set[str], timeout: float) -> None:
    def all_show_them() -> bool:
        return all(p.channels() == channels and p.state() == "live" for p in panels)

    if not wait_for(all_show_them, timeout, step=0.2):
        shown = [(p.state(), sorted(p.channels()), p.watch()) for p in panels]
        raise AssertionError(f"panels show {shown}, expected {sorted(channels)} live")


def assert_recovered_by_themselves(panels: list[PanelPage], stays: str, arrives: str) -> None:
    """The pages came back without a reload or an error; the call that stayed never left the
    screen, nobody was told the PBX failed, and the caller who arrived meanwhile has a name."""
    for panel in panels:
        watched = panel.watch()
        assert watched.get("loadedOnce"), "the page was reloaded"
        assert not watched["errors"]
        assert "0" not in watched["counts"], watched
        assert set(watched["states"]) <= {"live", "reconnecting", "stale"}, watched
        assert panel.customer(arrives).startswith(AYSE.name)
        assert stays in panel.channels()


def assert_polls_keep_coming(private_redis: PrivateRedis, stack: PanelStack) -> None:
    """The worker consumes: beat's polls run one per interval."""
    counted = private_redis.polls_ok()
    assert wait_for(lambda: private_redis.polls_ok() >= counted + 3, timeout=6), (
        f"polls stalled after {private_redis.polls_ok() - counted}\n{stack.logs()}"
    )


@pytest.mark.parametrize("outage_s", [1.0, 9.0], ids=["short-outage", "long-outage"])
def test_after_redis_crashes_and_restarts_empty_polls_queue_and_open_panels_recover_by_themselves(
    outage_s, sim, stack, private_redis, panels
):
    stays = sim.add_call(UNKNOWN_NUMBER, "111", callinfo=TALKING)
    ends = sim.add_call("902161112233", "112", callinfo=TALKING)
    wait_until_shown(panels, {stays, ends}, timeout=10)
    for panel in panels:
        panel.forget()

    private_redis.crash()
    # The calls change while Redis is away: no poll can see it, no page can be told.
    sim.end_call(ends)
    arrives = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING)
    time.sleep(outage_s)  # the outage itself
    private_redis.start()
    back = time.monotonic()

    def left() -> float:
        return max(RECOVERY_S - (time.monotonic() - back), 0.1)

    # Polls succeed again and store the PBX's calls in the empty Redis ...
    stack.wait_for_channels(stays, arrives, timeout=left())
    # ... and the open pages show exactly those, by themselves.
    wait_until_shown(panels, {stays, arrives}, timeout=left())
    print(f"recovered {time.monotonic() - back:.1f} s after Redis came back")
    assert_recovered_by_themselves(panels, stays, arrives)

    # The worker keeps consuming: polls keep coming, one per interval ...
    assert_polls_keep_coming(private_redis, stack)
    # ... and so does a one-off task queued from elsewhere (the history sync reaches the PBX) ...
    with Connection(private_redis.url) as connection:
        celery_app.send_task("calls.sync_recent_cdr", connection=connection)
    assert wait_for(lambda: [e for e in sim.request_log() if e.action == "cdr"], timeout=10), (
        f"the queued history sync never ran\n{stack.logs()}"
    )
    # ... and the poll a supervisor's hang-up queues through the web server's own connection.
    log = stack.web.log_offset()
    panels[0].hang_up(arrives)
    wait_until_shown(panels, {stays}, timeout=5)
    assert "Could not queue the poll" not in stack.web.log_since(log)


def test_a_page_back_before_the_first_poll_after_a_restart_keeps_its_calls_marked_out_of_date(
    sim, stack, private_redis, panels
):
    calls = {
        sim.add_call(UNKNOWN_NUMBER, "111", callinfo=TALKING),
        sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING),
    }
    wait_until_shown(panels, calls, timeout=10)
    for panel in panels:
        panel.forget()

    # The pages hear from the restarted server before any poll has run on it, as happens whenever
    # the worker's reconnection backoff (2 s, 4 s, … up to 30 s) outlasts theirs (at most 5 s):
    # here beat is held back to make sure.
    stack.beat.stop()
    try:
        private_redis.crash()
        private_redis.start()

        assert wait_for(lambda: all(p.awaiting_first_poll() for p in panels), 10), [
            p.watch() for p in panels
        ]
        # The server has nothing to show yet: the pages keep what they had rather than empty
        # the table (and close every screen-pop), and say it may be out of date.
        for panel in panels:
            assert panel.channels() == calls
            assert panel.state() == "stale"
            assert "0" not in panel.watch()["counts"], panel.watch()
    finally:
        stack.beat.start()

    wait_until_shown(panels, calls, timeout=RECOVERY_S)


def test_after_the_network_to_redis_goes_silent_for_a_while_everything_recovers_by_itself(
    sim, stack, private_redis, panels
):
    stays = sim.add_call(UNKNOWN_NUMBER, "111", callinfo=TALKING)
    ends = sim.add_call("902161112233", "112", callinfo=TALKING)
    wait_until_shown(panels, {stays, ends}, timeout=10)
    for panel in panels:
        panel.forget()

    # Every connection to Redis hangs: nothing arrives, nothing is closed, no error is raised.
    private_redis.proxy.blackhole()
    sim.end_call(ends)
    arrives = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING)
    time.sleep(3)  # the blip itself
    # New connections get through again; the old ones stay dead, as after a real partition.
    private_redis.proxy.restore()
    back = time.monotonic()

    def left() -> float:
        return max(RECOVERY_S - (time.monotonic() - back), 0.1)

    stack.wait_for_channels(stays, arrives, timeout=left())
    wait_until_shown(panels, {stays, arrives}, timeout=left())
    print(f"recovered {time.monotonic() - back:.1f} s after the network came back")
    assert_recovered_by_themselves(panels, stays, arrives)
    assert_polls_keep_coming(private_redis, stack)
