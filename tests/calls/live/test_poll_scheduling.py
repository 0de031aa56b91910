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
from calls.tasks import poll_active_calls_task
from tests import stack
from tests.stack import wait_for

pytestmark = pytest.mark.usefixtures("live_redis")


def activecalls_arrivals(pbx) -> list[float]:
    return [e.at.timestamp() for e in pbx.sim.request_log() if e.action == "activecalls"]


@contextmanager
def celery(pbx, tmp_path: Path, *roles: str, interval: float = 1.0) -> Iterator[None]:
    """Run `worker` and/or `beat` as real processes pointed at the simulator."""
    env = stack.panel_env(
        pbx.url,
        database_url=stack.own_database_url(tmp_path),
        poll_interval=interval,
        api_timeout=5,
    )
    with stack.running(*(stack.celery(role, env, tmp_path) for role in roles)):
        yield


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
        time.sleep(latency + 1)  # let the last slow poll finish
        pbx_sim.sim.clear_request_log()
        time.sleep(5)
        fast = activecalls_arrivals(pbx_sim)

    gaps = [b - a for a, b in itertools.pairwise(slow)]
    assert min(gaps) >= latency - 0.05, f"polls overlapped: gaps {gaps}"
    assert 4 <= len(fast) <= 6, f"expected one poll a second, got {len(fast)} in 5 s"


@pytest.mark.slow
def test_polls_queued_while_no_worker_ran_expire_instead_of_piling_up(pbx_sim, tmp_path):
    for _ in range(5):
        poll_active_calls_task.apply_async(expires=1)
    time.sleep(1.5)
    with celery(pbx_sim, tmp_path, "worker"):
        poll_active_calls_task.delay()  # a fresh one, queued behind the stale ones
        assert wait_for(lambda: activecalls_arrivals(pbx_sim), timeout=30)
        time.sleep(1)
    assert len(activecalls_arrivals(pbx_sim)) == 1
