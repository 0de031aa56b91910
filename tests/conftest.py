"""Shared fixtures: a real PBX simulator over HTTP, real Redis, and the personas tests speak of.

Personas: Alice is an agent, Sam a supervisor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from calls.pbx import TelsamClient
from calls.simulator import PbxSimulator, SimulatorServer

PBX_USER = "panel-api"
PBX_PASSWORD = "S3ntinel&pass=w0rd/+%"  # special characters on purpose: they must be encoded


@dataclass(frozen=True)
class RunningPbx:
    sim: PbxSimulator
    url: str  # V1 base URL
    v2_url: str


@pytest.fixture
def pbx_sim() -> Iterator[RunningPbx]:
    """A quiet simulator (no generated traffic) served over real HTTP on a free port."""
    sim = PbxSimulator(PBX_USER, PBX_PASSWORD, seed=1, traffic=False)
    server = SimulatorServer(sim, host="127.0.0.1", port=0).start()
    try:
        yield RunningPbx(sim=sim, url=server.url, v2_url=server.v2_url)
    finally:
        server.stop()


@pytest.fixture
def pbx(pbx_sim: RunningPbx) -> TelsamClient:
    """A client pointed at the simulator with a short timeout (tests force timeouts)."""
    return TelsamClient(pbx_sim.url, PBX_USER, PBX_PASSWORD, timeout=0.5)


@pytest.fixture
def pbx_settings(settings, pbx_sim: RunningPbx) -> RunningPbx:
    """Point the panel's settings at the simulator, as a deployment's .env would."""
    settings.TELSAM_API_URL = pbx_sim.url
    settings.TELSAM_API_USERNAME = PBX_USER
    settings.TELSAM_API_PASSWORD = PBX_PASSWORD
    settings.TELSAM_API_TIMEOUT = 0.5
    return pbx_sim


@pytest.fixture
def live_redis() -> Iterator[redis.Redis]:
    """The tests' own Redis database, empty before and after the test."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    database = int(urlsplit(django_settings.REDIS_URL).path.strip("/") or 0)
    assert database != 0, "tests must not use Redis database 0, the demo's"
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _persona(username: str, group: str | None):
    user = get_user_model().objects.create_user(username, password=f"{username}-pass-123")
    user.is_staff = True
    user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def alice(db):
    """Alice the agent."""
    return _persona("alice", "Agents")


@pytest.fixture
def sam(db):
    """Sam the supervisor."""
    return _persona("sam", "Supervisors")


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
