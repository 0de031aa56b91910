"""Private services a test (or a benchmark) starts for itself: a free port, a `redis-server`, a
PostgreSQL database; and the tests' own database of the shared Redis."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import redis

from tests.support.processes import Process
from tests.support.waiting import wait_for

POSTGRES_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port nobody listens on right now (for a server that cannot be told to pick one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_database(url: str) -> int:
    """The database number in a Redis URL (0 when it names none)."""
    return int(urlsplit(url).path.strip("/") or 0)


def fresh_test_redis(url: str) -> redis.Redis:
    """A client of the tests' database of the shared Redis, emptied: never database 0, the
    demo's."""
    assert redis_database(url) != 0, "tests must not use Redis database 0, the demo's"
    client = redis.Redis.from_url(url)
    client.flushdb()
    return client


def redis_server(port: int, workdir: Path, *, password: str | None = None) -> Process:
    """A private Redis on 127.0.0.1:`port` that keeps nothing on disk, like the shared one: a
    restart loses every key (not started yet; see `wait_for_redis`)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    argv = [
        binary,
        *("--bind", "127.0.0.1", "--port", str(port)),
        *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
        *(("--requirepass", password) if password else ()),
    ]
    return Process(f"redis-{port}", argv, os.environ, workdir / f"redis-{port}.log")


def wait_for_redis(url: str, timeout: float = 10) -> None:
    """Wait until the Redis at `url` answers a PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        if not wait_for(answers, timeout, step=0.05):
            raise RuntimeError(f"Redis at {url} did not answer within {timeout} s")
    finally:
        client.close()


def _server_of(database_url: str) -> str:
    return database_url.rsplit("/", 1)[0]


def create_postgres_database(server_url: str = POSTGRES_SERVER_URL, prefix: str = "telsam") -> str:
    """A fresh, empty database on the PostgreSQL server of `server_url`; its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{_server_of(server_url)}/{name}"


def drop_postgres_database(database_url: str) -> None:
    """Drop the database of `database_url`, whoever is still connected to it."""
    import psycopg

    server, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database(
    server_url: str = POSTGRES_SERVER_URL, prefix: str = "telsam"
) -> Iterator[str]:
    """A fresh PostgreSQL database for the duration of the block; its URL."""
    url = create_postgres_database(server_url, prefix)
    try:
        yield url
    finally:
        drop_postgres_database(url)


def sqlite_url(path: Path) -> str:
    """`DATABASE_URL` for an SQLite file (an absolute path gives the four slashes)."""
    return f"sqlite:///{path.resolve()}"


def own_database_url(workdir: Path) -> str:
    """A database of a stack's own on the backend the suite runs on: an SQLite file in `workdir`,
    or, when the tests run on PostgreSQL (`DATABASE_URL=postgres://…`, as CI's second run does),
    a fresh PostgreSQL database on that server, dropped when the test session ends."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith(("postgres://", "postgresql://")):
        return sqlite_url(workdir / "stack.sqlite3")
    url = create_postgres_database(suite_url, prefix="telsam_stack")
    atexit.register(drop_postgres_database, url)
    return url
