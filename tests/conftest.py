"""Shared fixtures: a real PBX simulator over HTTP, real Redis, and the personas tests speak of
(tests/support/personas.py). Fixtures only: what they build is in tests/support/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings as django_settings

from calls.pbx import TelsamClient
from calls.simulator import PbxSimulator
from tests.support import personas
from tests.support.live_socket import fresh_channel_layers
from tests.support.pbx import PBX_PASSWORD, PBX_USER, SimulatedPbx
from tests.support.services import fresh_test_redis
from tests.support.stack import PanelStack, starts_processes, uses_processes

_STACK = pytest.StashKey[PanelStack]()


@pytest.fixture
def pbx_sim() -> Iterator[SimulatedPbx]:
    """A quiet simulator (no generated traffic) served over real HTTP on a free port."""
    pbx = SimulatedPbx()
    try:
        yield pbx
    finally:
        pbx.stop()


@pytest.fixture
def pbx(pbx_sim: SimulatedPbx) -> TelsamClient:
    """A client pointed at the simulator with a short timeout (tests force timeouts)."""
    return TelsamClient(pbx_sim.url, PBX_USER, PBX_PASSWORD, timeout=0.5)


@pytest.fixture
def pbx_settings(settings, pbx_sim: SimulatedPbx) -> SimulatedPbx:
    """Point the panel's settings at the simulator, as a deployment's .env would."""
    settings.TELSAM_API_URL = pbx_sim.url
    settings.TELSAM_API_USERNAME = PBX_USER
    settings.TELSAM_API_PASSWORD = PBX_PASSWORD
    settings.TELSAM_API_TIMEOUT = 0.5
    return pbx_sim


@pytest.fixture
def live_redis() -> Iterator[redis.Redis]:
    """The tests' own Redis database, empty before and after the test."""
    client = fresh_test_redis(django_settings.REDIS_URL)
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def quick_session_checks(monkeypatch) -> float:
    """Open panels' sessions checked every 0.2 s instead of every 2 s, so a test of what a check
    does waits a fraction of a second; the shipped interval is tested on its own
    (tests/security/test_panel_sessions.py)."""
    from calls.live import session_watch

    monkeypatch.setattr(session_watch, "CHECK_SECONDS", 0.2)
    return session_watch.CHECK_SECONDS


# Unit tests start from accounts as an administrator creates them: no extensions saved yet.
@pytest.fixture
def alice(db):
    """Alice the agent."""
    return personas.create(personas.ALICE, with_extensions=False)


@pytest.fixture
def sam(db):
    """Sam the supervisor."""
    return personas.create(personas.SAM, with_extensions=False)


@pytest.fixture(scope="module")
def simulated_pbx() -> Iterator[SimulatedPbx]:
    """The simulator of a module's stack, which tests can take off the network and back."""
    pbx = SimulatedPbx()
    try:
        yield pbx
    finally:
        pbx.stop()


@pytest.fixture(scope="module")
@starts_processes
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    simulated_pbx: SimulatedPbx,
) -> Iterator[PanelStack]:
    """The whole panel (web server, worker, beat) on a fresh database of its own and the tests'
    Redis database, with the personas and Ayşe; started once per module (about ten seconds)."""
    client = fresh_test_redis(django_settings.REDIS_URL)
    panel = PanelStack(
        tmp_path_factory.mktemp("stack"),
        simulated_pbx.url,
        client,
        # A dead PBX is noticed within a poll or two, not after the default 5 s.
        api_timeout=1.0,
    )
    request.config.stash[_STACK] = panel
    try:
        with panel.serving(personas.seed_code()):
            yield panel
    finally:
        del request.config.stash[_STACK]
        client.flushdb()  # the broker's queues and the snapshot, for the tests that follow
        client.close()


@pytest.fixture
def sim(stack: PanelStack, simulated_pbx: SimulatedPbx) -> PbxSimulator:
    """The simulator, answering, with no calls, faults or logged requests, and the panel's live
    state caught up with that (so no page starts with the previous test's calls). Whatever a
    failed test left stopped is started again."""
    if not stack.web.running:
        stack.start_web()
    simulated_pbx.start()
    simulated_pbx.sim.reset()
    stack.wait_for_channels(timeout=10)
    simulated_pbx.sim.clear_request_log()
    return simulated_pbx.sim


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and not config.pluginmanager.has_plugin(
        "tests.support.parallel"
    ):
        # Workers sharing one Redis database flush each other's state mid-test.
        raise pytest.UsageError("parallel runs need -p tests.support.parallel (make test-fast)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `make test-fast` leaves out every test that starts the panel's processes or a browser.
    for item in items:
        if uses_processes(item):
            item.add_marker(pytest.mark.stack)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"report_{report.when}", report)
    panel = item.config.stash.get(_STACK, None)
    if report.failed and panel is not None:
        # What the servers said is usually the quickest way to a CI failure's cause.
        report.sections.append(("panel processes (log tails)", panel.logs()))
    return report


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    # Production serves collected, hashed files (whitenoise's manifest); tests render templates
    # straight from the source tree instead of running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _channel_layer_per_test() -> None:
    """Each test gets channel layers of its own (`fresh_channel_layers` says why)."""
    fresh_channel_layers()


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker) -> Iterator[None]:
    """On PostgreSQL, end the test database's other sessions before pytest-django drops it.

    Async tests reach the database from worker threads (`database_sync_to_async`) whose
    connections outlive the tests; PostgreSQL refuses to drop a database anyone is connected to,
    which would leave `test_test` behind.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
