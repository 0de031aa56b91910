"""The database fails under a running panel: the live calls do not depend on it.

The whole stack runs on PostgreSQL (its own database, created and dropped here), reached through a
TCP proxy the test can cut. A poll needs the database only to put names on callers; without it the
calls still arrive, as unknown callers, and the names come back by themselves.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from django.conf import settings

from calls.live.snapshot import POLL_COUNTERS_KEY
from calls.simulator import PbxSimulator
from tests.support.pbx import SimulatedPbx
from tests.support.personas import ALICE, AYSE, seed_code
from tests.support.stack import PanelStack
from tests.support.tcp_proxy import TcpProxy
from tests.support.threaded_browser import Chromium, PanelPage
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
UNKNOWN = "Bilinmeyen arayan"  # "unknown caller": the panel speaks Turkish by default
TALKING = "Konuşuyor"
# The PBX's own deadline; the poll's time limits derive from it (calls.live.poll.poll_time_limit):
# soft 2 × 0.5 + 5 = 6 s, hard 8 s, and the poll lock expires after 11 s.
API_TIMEOUT = 0.5
SOFT_LIMIT_S = 2 * API_TIMEOUT + 5
LOCK_TTL_S = SOFT_LIMIT_S + 5
# Two poll intervals plus slack for the browser and a busy machine.
ARRIVAL_S = 6.0


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of our own on the shared PostgreSQL, dropped at the end."""
    name = f"telsam_resilience_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"these tests need PostgreSQL at {POSTGRES}: {exc}")
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield name
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def proxy() -> Iterator[TcpProxy]:
    port = urlsplit(POSTGRES).port
    assert port is not None
    tcp_proxy = TcpProxy("127.0.0.1", port)
    try:
        yield tcp_proxy
    finally:
        tcp_proxy.close()


@pytest.fixture(scope="module")
def live_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert int(urlsplit(settings.REDIS_URL).path.strip("/") or 0) != 0, "not the demo's Redis"
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    database: str,
    proxy: TcpProxy,
    live_redis: redis.Redis,
    simulated_pbx: SimulatedPbx,
) -> Iterator[PanelStack]:
    panel = PanelStack(
        tmp_path_factory.mktemp("stack"),
        simulated_pbx.url,
        live_redis,
        poll_interval=1.0,
        api_timeout=API_TIMEOUT,
        database_url=f"postgres://postgres@127.0.0.1:{proxy.port}/{database}",
    )
    with panel.serving(seed_code()):
        yield panel


@pytest.fixture(scope="module")
def panel(chromium: Chromium, stack: PanelStack) -> PanelPage:
    return chromium.open_panel(stack.url, ALICE)


@pytest.fixture
def sim(stack: PanelStack, simulated_pbx: SimulatedPbx, proxy: TcpProxy) -> PbxSimulator:
    proxy.restore()
    simulated_pbx.sim.reset()
    stack.wait_for_channels(timeout=10)
    simulated_pbx.sim.clear_request_log()
    return simulated_pbx.sim


def polls(client: redis.Redis) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in client.hgetall(POLL_COUNTERS_KEY).items()}


def shows(panel: PanelPage, customers: dict[str, str]) -> bool:
    """Whether the panel shows exactly these calls, each with that customer column."""
    return panel.channels() == set(customers) and all(
        panel.customer(channel).startswith(name) for channel, name in customers.items()
    )


def wait_until_shows(panel: PanelPage, customers: dict[str, str], timeout: float) -> None:
    if not wait_for(lambda: shows(panel, customers), timeout, step=0.2):
        shown = {c: panel.customer(c) for c in panel.channels()}
        raise AssertionError(f"the panel shows {shown}, expected {customers}")


def test_while_the_database_is_down_calls_keep_arriving_as_unknown_and_get_their_names_back(
    sim, stack, proxy, live_redis, panel
):
    before = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)
    wait_until_shows(panel, {before: AYSE.name}, timeout=ARRIVAL_S)

    log = stack.worker.log_offset()
    proxy.refuse()  # PostgreSQL is down: connections reset, new ones refused
    counted = polls(live_redis)
    during = sim.add_call(AYSE.pbx_number, "111", callinfo=TALKING)
    stranger = sim.add_call("905421112233", "112", callinfo=TALKING)

    # The calls keep coming; the customer lookup cannot run, so the new one is unknown for now,
    # while the call already on screen keeps the name it had.
    wait_until_shows(
        panel, {before: AYSE.name, during: UNKNOWN, stranger: UNKNOWN}, timeout=ARRIVAL_S
    )
    assert wait_for(lambda: polls(live_redis).get("ok", 0) >= counted.get("ok", 0) + 3, 6)
    assert panel.state() == "live"
    down = polls(live_redis)
    assert down.get("pbx_error", 0) == counted.get("pbx_error", 0)
    assert "Customer lookup failed" in stack.worker.log_since(log)

    proxy.restore()

    # Unknown callers still on the line are looked up again every few polls.
    wait_until_shows(panel, {before: AYSE.name, during: AYSE.name, stranger: UNKNOWN}, timeout=10)
    # No poll failed on the way: no task error, no PBX error counted.
    assert not re.search(r"calls\.poll_active_calls\[.*\] raised", stack.worker.log_since(log))
    assert polls(live_redis).get("pbx_error", 0) == counted.get("pbx_error", 0)


def test_a_poll_stuck_on_a_locked_table_is_cut_off_and_the_polls_after_it_run(
    sim, stack, live_redis, database, panel
):
    wait_until_shows(panel, {}, timeout=ARRIVAL_S)
    # A deployment's migration rewrites the phone number table: until it commits, nobody can read
    # it, and the customer lookup waits — a wait the PBX client's deadline does not cover.
    migration = psycopg.connect(f"{POSTGRES}/{database}")
    try:
        migration.execute("LOCK TABLE customers_phonenumber IN ACCESS EXCLUSIVE MODE")
        counted = polls(live_redis)
        log = stack.worker.log_offset()
        caller = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)

        # The poll that looks the new caller up hangs; beat's polls meanwhile find it busy, and
        # the page, hearing nothing, says its data may be out of date.
        assert wait_for(lambda: polls(live_redis).get("skipped", 0) > counted.get("skipped", 0), 5)
        assert wait_for(lambda: panel.state() == "stale", SOFT_LIMIT_S)
        # The stuck poll is cut off by its time limit (the soft limit raises inside the task).
        assert wait_for(
            lambda: "SoftTimeLimitExceeded" in stack.worker.log_since(log), SOFT_LIMIT_S + 5
        ), stack.logs()
    finally:
        migration.rollback()  # the migration ends
        migration.close()

    # The lock the stuck poll held does not outlive it, and the next polls run and succeed.
    wait_until_shows(panel, {caller: AYSE.name}, timeout=LOCK_TTL_S)
    assert panel.state() == "live"
    okay = polls(live_redis).get("ok", 0)
    assert wait_for(lambda: polls(live_redis).get("ok", 0) >= okay + 3, 6)
