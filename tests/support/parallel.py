"""Parallel test runs (`make test-fast`, pytest-xdist): each worker gets its own Redis database.

Tests flush the Redis database they use, so two workers must never share one. Worker `gwN` takes
the suite's database (`REDIS_URL`: pyproject's default, or the caller's) minus N. Loaded with
`-p tests.support.parallel`, this runs after pytest-env has set `REDIS_URL` and before
pytest-django reads the settings (both happen while pytest loads its first conftest), and the
test databases of pytest-django already carry the worker's name.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest


def worker_redis_url(url: str, worker: str) -> str:
    index = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - index
    if database < 1:
        raise pytest.UsageError(f"REDIS_URL leaves no Redis database for worker {worker}")
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], worker)
