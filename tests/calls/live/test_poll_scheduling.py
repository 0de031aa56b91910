"""Polls never overlap, run once per interval, and stale queued polls expire — with a real Celery
worker and beat as separate processes, real Redis as the broker and the simulator over HTTP."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from calls.live.poll import PollStatus, poll_active_calls
from calls.live.snapshot import poll_counters, redis_client
from calls.tasks import poll_active_calls_task
from tests.support.processes import celery as celery_process
from tests.support.processes import running
from tests.support.services import own_database_url
from tests.support.stack import panel_env
from tests.support.waiting import wait_for, wait_until

pytestmark = pytest.mark.usefixtures("live_redis")


def activecalls_arrivals(pbx) -> list[float]:
    return [e.at.timestamp() for e in pbx.sim.request_log() if e.action == "activecalls"]


@contextmanager
def celery(pbx, tmp_path: Path, *roles: str, interval: float = 1.0) -> Iterator[None]:
    """Run `worker` and/or `beat` as real processes pointed at the simulator."""
    env = panel_env(
        pbx.url,
        database_url=own_database_url(tmp_path),
        poll_interval=interval,
        api_timeout=5,
    )
    with running(*(celery_process(role, env, tmp_path) for role in roles)):
        yield


def arrivals_after(pbx, moment: float) -> list[float]:
    return [at for at in activecalls_arrivals(pbx) if at >= moment]


def queue_drained() -> bool:
    """Every queued task was taken off the broker's queue and acknowledged (run or dropped)."""
    broker = redis_client()
    return broker.llen("celery") == 0 and broker.hlen("unacked") == 0


@pytest.mark.django_db  # the poll that succeeds notes the calls for the history
def test_concurrent_polls_reach_the_pbx_once(pbx_settings):
    pbx_settings.sim.set_fault("latency", latency=0.4)
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda _: poll_active_calls(), range(5)))
    assert sorted(r.status for r in results).count(PollStatus.SKIPPED) == 4
    assert len(activecalls_arrivals(pbx_settings)) == 1


@pytest.mark.slow
def test_beat_polls_once_per_interval_and_never_overlaps_a_slow_pbx(pbx_sim, tmp_path):
    latency = 2.5
    pbx_sim.sim.set_fault("latency", latency=latency)
    with celery(pbx_sim, tmp_path, "worker", "beat", interval=1.0):
        assert wait_for(lambda: len(activecalls_arrivals(pbx_sim)) >= 3, timeout=30)
        slow = activecalls_arrivals(pbx_sim)
        pbx_sim.sim.set_fault(None)
        # The last slow poll has finished once a fast one reaches the PBX: polls never overlap.
        cleared = time.time()
        wait_until(lambda: arrivals_after(pbx_sim, cleared), 30, what="a poll after the slow ones")
        pbx_sim.sim.clear_request_log()
        # Five seconds of polls, counted by the simulator's own clock once a poll came after them.
        start = time.time()
        wait_until(lambda: arrivals_after(pbx_sim, start + 5), 30, what="a poll after 5 s")
        fast = [at for at in activecalls_arrivals(pbx_sim) if at < start + 5]

    gaps = [b - a for a, b in itertools.pairwise(slow)]
    assert min(gaps) >= latency - 0.05, f"polls overlapped: gaps {gaps}"
    assert 4 <= len(fast) <= 6, f"expected one poll a second, got {len(fast)} in 5 s"


@pytest.mark.slow
def test_polls_queued_while_no_worker_ran_expire_instead_of_piling_up(pbx_sim, tmp_path):
    for _ in range(5):
        poll_active_calls_task.apply_async(expires=1)
    time.sleep(1.5)  # no worker runs while they expire: the time passing is the point
    with celery(pbx_sim, tmp_path, "worker"):
        poll_active_calls_task.delay()  # a fresh one, queued behind the stale ones
        assert wait_for(lambda: activecalls_arrivals(pbx_sim), timeout=30)
        wait_until(
            lambda: queue_drained() and sum(poll_counters().values()) >= 1,
            30,
            what="the worker took every queued poll and finished the one it ran",
        )
    assert len(activecalls_arrivals(pbx_sim)) == 1
