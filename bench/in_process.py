"""What the in-process poll benchmarks (`poll_cost`, `wallboard_cost`) share: their own Redis
database and benchmark database, and the PBX's answer served again without the network."""

from __future__ import annotations

import os

from bench.setup_django import fresh_database

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def start(backend: str) -> None:
    """Point this process at Redis database 9 (`BENCH_REDIS_URL`) and a fresh benchmark
    database, migrated."""
    if REDIS_URL.rstrip("/").endswith(("/0", ":6379")):
        raise SystemExit("BENCH_REDIS_URL must name a Redis database other than 0")
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["LOG_LEVEL"] = "WARNING"
    fresh_database(backend)


def replayed_pbx(url: str, username: str, password: str):
    """A PBX client that answers with `.body` (the simulator's last answer, fetched untimed), so
    a poll's time is the panel's own, not the network's (call after `start`)."""
    from calls.pbx import TelsamClient

    class ReplayedPbx(TelsamClient):
        body = ""

        def _request(self, action, params=None) -> str:
            return self.body

    return ReplayedPbx(url, username, password)
