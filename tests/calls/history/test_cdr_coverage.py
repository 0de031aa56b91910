"""Call history loses no call: long calls, late rows, outages, a lost Redis.

The PBX writes a call's CDR row when the call ends, dated by its start. These tests drive the
simulator's own clock (the panel's functions take the same `now`), so hours pass in milliseconds;
the PBX is the simulator over real HTTP, the poller and the sync the real ones.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from calls.history import cdr_sync, tracked_calls
from calls.history.cdr_sync import sync_recent
from calls.live.poll import PollStatus, poll_active_calls
from calls.live.snapshot import read_snapshot
from calls.models import CallRecord, TrackedCall
from calls.pbx import PbxError, TelsamClient
from calls.simulator import CALLINFO_TALKING, PbxSimulator, SimulatorServer
from calls.simulator.vocabulary import parse_cdr_param
from telsam_panel.celery import app
from tests.support.db_faults import refusing
from tests.support.pbx import PBX_PASSWORD, PBX_USER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

START = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 10:00 in Istanbul
CALLER = "905321234567"
LONG_AGO, FAR_AHEAD = START - timedelta(days=30), START + timedelta(days=30)


class Clock:
    """The time both the simulator and the panel's functions are given."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def sim(settings, clock: Clock) -> Iterator[PbxSimulator]:
    """A quiet simulator on `clock`, over HTTP, with the panel's settings pointed at it."""
    simulator = PbxSimulator(PBX_USER, PBX_PASSWORD, seed=1, clock=clock)
    with SimulatorServer(simulator) as server:
        settings.TELSAM_API_URL = server.url
        settings.TELSAM_API_USERNAME = PBX_USER
        settings.TELSAM_API_PASSWORD = PBX_PASSWORD
        settings.TELSAM_API_TIMEOUT = 0.5
        yield simulator


def poll(clock: Clock) -> None:
    assert poll_active_calls(now=clock()).status is PollStatus.OK


def sync(clock: Clock) -> cdr_sync.SyncSummary:
    return sync_recent(now=clock())


def stored() -> list[str]:
    return sorted(CallRecord.objects.values_list("pbx_id", flat=True))


def at_the_pbx(sim: PbxSimulator) -> list[str]:
    """Every row the PBX has written so far (read directly, not over the sync's path)."""
    return sorted(row["id"] for row in sim.cdr_rows(LONG_AGO, FAR_AHEAD))


def assert_every_row_stored_once(sim: PbxSimulator) -> None:
    pbx_ids = at_the_pbx(sim)
    assert pbx_ids, "the test wrote no CDR rows"
    assert stored() == pbx_ids


def catch_up(clock: Clock, client: TelsamClient | None = None) -> None:
    """Run the periodic sync once a minute until it has caught up (bounded)."""
    for _ in range(20):
        clock.advance(minutes=1)
        sync_recent(client, now=clock())
        if cdr_sync.sync_status(clock()).behind <= cdr_sync.RECENT_WINDOW:
            return
    raise AssertionError("the sync does not catch up")


def unreachable_pbx() -> TelsamClient:
    """A client whose every request fails: the PBX's CDR action down while live polls work."""
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return TelsamClient(f"http://127.0.0.1:{port}", PBX_USER, PBX_PASSWORD, timeout=0.5)


def cdr_windows(sim: PbxSimulator) -> list[tuple[datetime, datetime]]:
    return [
        (parse_cdr_param(e.params["date1"]), parse_cdr_param(e.params["date2"]))
        for e in sim.request_log()
        if e.action == "cdr"
    ]


@pytest.mark.parametrize("minutes", [40, 180], ids=["40_minutes", "3_hours"])
def test_a_long_call_the_poller_saw_reaches_history_right_after_it_ends(sim, clock, minutes):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    sync(clock)
    for _ in range(minutes // 10):  # the periodic sync runs on during the call
        clock.advance(minutes=10)
        poll(clock)
        sync(clock)
    sim.end_call(channel)  # the PBX writes the row now, dated by the call's start
    clock.advance(seconds=2)
    poll(clock)  # the poller sees the call leave
    clock.advance(seconds=40)
    sync(clock)  # the next periodic sync

    assert_every_row_stored_once(sim)
    assert CallRecord.objects.get().calldate == START
    assert cdr_sync.sync_status(clock()).awaiting == 0
    assert max(end - start for start, end in cdr_windows(sim)) <= cdr_sync.MAX_WINDOW


def test_a_row_the_pbx_writes_two_hours_late_is_stored_by_the_next_sweep(sim, clock):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    clock.advance(minutes=5)
    sim.end_call(channel, cdr_delay=2 * 3600)
    clock.advance(seconds=2)
    poll(clock)
    for _ in range(11):  # nearly two hours of periodic syncs find nothing yet
        clock.advance(minutes=10)
        sync(clock)
        assert stored() == []
    assert cdr_sync.sync_status(clock()).awaiting == 1
    clock.advance(minutes=11)  # the row is there now
    cdr_sync.sweep(now=clock())

    assert_every_row_stored_once(sim)
    assert cdr_sync.sync_status(clock()).awaiting == 0


def test_the_sweep_finds_rows_the_live_poll_never_saw_and_rows_written_late(sim, clock):
    clock.advance(hours=30)
    sync(clock)
    # A short call between two polls, and a call from five hours ago whose row comes only now.
    sim.add_cdr(CALLER, "110", started_at=clock() - timedelta(minutes=50), duration=3)
    sim.add_cdr("905441112233", "111", started_at=clock() - timedelta(hours=5), duration=600)
    sim.add_cdr("905441112234", "111", started_at=clock() - timedelta(hours=23, minutes=50))
    clock.advance(minutes=1)
    sync(clock)
    assert len(stored()) == 0
    sim.clear_request_log()

    summary = cdr_sync.sweep(now=clock())

    assert summary.new == 3
    assert_every_row_stored_once(sim)
    windows = cdr_windows(sim)
    assert min(start for start, _ in windows) <= clock() - timedelta(hours=24)
    assert max(end - start for start, end in windows) <= cdr_sync.MAX_WINDOW
    assert cdr_sync.sync_status(clock()).swept_at == clock()


def test_after_a_three_day_outage_the_sync_catches_up_window_by_window(sim, clock, caplog):
    sync(clock)
    sim.set_fault("http_500")
    for hour in range(0, 72, 2):  # a call every two hours, all through the outage
        sim.add_cdr(CALLER, "110", started_at=START + timedelta(hours=hour, minutes=30))
    for _ in range(3):  # the syncs that ran during it failed
        clock.advance(hours=24)
        with pytest.raises(Exception, match="HTTP 500"):
            sync(clock)
    sim.set_fault(None)
    sim.clear_request_log()
    caplog.set_level(logging.WARNING, logger="calls.history.cdr_sync")

    behind = [cdr_sync.sync_status(clock()).behind]
    runs = 0
    while cdr_sync.sync_status(clock()).behind > timedelta(minutes=5):
        runs += 1
        assert runs < 20, "the sync does not catch up"
        clock.advance(minutes=1)
        sync(clock)
        behind.append(cdr_sync.sync_status(clock()).behind)

    assert behind[0] >= timedelta(days=3)
    assert runs > 1, "one request for three days is not a bounded window"
    assert behind == sorted(behind, reverse=True)  # always closer, never skipping ahead
    assert max(end - start for start, end in cdr_windows(sim)) <= cdr_sync.MAX_WINDOW
    assert "behind" in caplog.text  # the log says how far
    assert_every_row_stored_once(sim)
    assert len(stored()) == 36


def test_a_redis_flushed_between_two_syncs_loses_no_history(sim, clock, live_redis):
    sync(clock)
    # A call the poller never saw, then an hour without syncs (the workers were down).
    sim.add_cdr(CALLER, "110", started_at=clock() + timedelta(minutes=10), duration=30)
    clock.advance(hours=1)
    live_redis.flushdb()  # the compose stack's Redis keeps nothing on disk

    sync(clock)

    assert_every_row_stored_once(sim)


def test_the_sync_says_where_it_stands_in_doctor_and_health(sim, clock, client, sam, capsys):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    clock.advance(minutes=30)
    sim.end_call(channel, cdr_delay=3600)
    poll(clock)
    sync(clock)

    status = cdr_sync.sync_status(clock())
    assert (status.awaiting, status.stale) == (1, False)
    assert status.behind < timedelta(minutes=1)

    with contextlib.suppress(SystemExit):  # it exits 1 for the poller, which is not running
        call_command("doctor", "--offline")
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("cdr_sync"))
    assert "1 call awaiting its row" in line
    client.force_login(sam)  # supervisors read the details of the monitoring endpoint
    body = client.get("/healthz/data").json()
    assert body["cdr_sync"]["data"]["awaiting"] == 1


def test_a_database_error_while_noting_calls_does_not_stop_the_poll(sim, clock, caplog):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    with refusing("insert", "calls_trackedcall"):
        poll(clock)  # broadcast, stored, not failed
    assert channel in read_snapshot().calls
    assert "Could not note 1 new and 0 ended calls" in caplog.text
    sim.end_call(channel)
    clock.advance(seconds=2)
    poll(clock)
    assert channel not in read_snapshot().calls
    clock.advance(seconds=30)
    sync(clock)  # a short call: the periodic window still covers it
    assert_every_row_stored_once(sim)


def lookups_of(sim: PbxSimulator, start: datetime) -> list[tuple[datetime, datetime]]:
    """The narrow windows asked for around `start` (a wait's lookups, not the cursor's)."""
    return [
        (low, high)
        for low, high in cdr_windows(sim)
        if low <= start <= high and high - low <= 2 * tracked_calls.LOOKUP_MARGIN
    ]


def test_a_call_whose_end_the_database_missed_is_closed_at_the_next_change(sim, clock):
    first = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    sync(clock)
    clock.advance(minutes=20)
    poll(clock)
    sync(clock)  # the cursor has passed the call's start
    sim.end_call(first)
    clock.advance(seconds=2)
    with refusing("update", "calls_trackedcall"):
        poll(clock)  # the end is not noted
    sim.add_call("905441112233", "111", callinfo=CALLINFO_TALKING)
    clock.advance(seconds=2)
    poll(clock)  # calls come and go: every open wait of a call no longer live is closed
    clock.advance(seconds=30)
    sync(clock)

    assert CallRecord.objects.filter(calldate=START).exists()
    assert cdr_sync.sync_status(clock()).awaiting == 0


def test_a_call_whose_row_never_comes_is_asked_less_and_less_then_left_to_the_sweep(
    sim, clock, caplog
):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    clock.advance(minutes=20)
    sync(clock)
    sim.end_call(channel, cdr_delay=3 * 86400)  # as good as never
    poll(clock)
    ended = clock()
    sim.clear_request_log()
    asked_at = []
    for _ in range(60):  # an hour of periodic syncs, one a minute
        clock.advance(minutes=1)
        before = len(lookups_of(sim, START))
        sync(clock)
        if len(lookups_of(sim, START)) > before:
            asked_at.append(clock() - ended)
    assert asked_at == [timedelta(minutes=m) for m in (1, 2, 10, 30)]
    assert cdr_sync.sync_status(clock()).awaiting == 1  # the sweep's to settle now

    clock.advance(hours=23)
    cdr_sync.sweep(now=clock())  # a day past its end, the sweep has not found it either

    assert cdr_sync.sync_status(clock()).awaiting == 0
    assert "Gave up waiting for the CDR rows of 1 calls" in caplog.text
    # It stays, a call known only from the live panel.
    [tracked] = TrackedCall.objects.all()
    assert (tracked.channel, tracked.record, tracked.given_up_at) == (channel, None, clock())


def test_a_call_in_progress_when_a_three_day_cdr_fault_starts_reaches_history(sim, clock, caplog):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    sync(clock)
    clock.advance(minutes=10)
    poll(clock)
    sync(clock)  # the cursor passes the call's start: its row is not written yet
    cdr_down = unreachable_pbx()
    clock.advance(minutes=30)
    sim.end_call(channel)  # a 40-minute call
    clock.advance(seconds=2)
    poll(clock)  # live polls still work
    for _ in range(3):
        clock.advance(hours=24)
        poll(clock)
        with pytest.raises(PbxError):
            sync_recent(cdr_down, now=clock())
    assert "Gave up" not in caplog.text  # no lookup has succeeded: nothing is known of its row

    catch_up(clock)

    assert_every_row_stored_once(sim)
    assert CallRecord.objects.get().calldate == START
    assert cdr_sync.sync_status(clock()).awaiting == 0


def test_a_call_in_progress_when_the_stack_stops_for_three_days_reaches_history(
    sim, clock, live_redis
):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    sync(clock)
    clock.advance(minutes=10)
    poll(clock)
    sync(clock)
    # The whole stack stops; the call ends while it is down; its Redis comes back empty.
    clock.advance(minutes=30)
    sim.end_call(channel)
    clock.advance(days=3)
    live_redis.flushdb()
    poll(clock)

    catch_up(clock)

    assert_every_row_stored_once(sim)
    assert CallRecord.objects.get().calldate == START
    assert cdr_sync.sync_status(clock()).awaiting == 0


def test_a_call_still_live_when_redis_is_flushed_is_awaited_once_and_keeps_its_key(
    sim, clock, live_redis
):
    channel = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    key = read_snapshot().calls[channel].key
    clock.advance(minutes=10, seconds=0.6)  # the inferred start may now differ by a second
    live_redis.flushdb()
    poll(clock)  # a fresh live state: the call is new to it, not to the history
    assert read_snapshot().calls[channel].key == key
    sim.end_call(channel)
    clock.advance(seconds=2)
    poll(clock)
    clock.advance(seconds=30)
    sync(clock)

    assert_every_row_stored_once(sim)
    assert cdr_sync.sync_status(clock()).awaiting == 0
    assert TrackedCall.objects.get().key.hex == key


def test_each_call_the_poller_saw_is_joined_to_its_own_row(sim, clock):
    first = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    poll(clock)
    clock.advance(minutes=1)
    second = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)  # the same caller, again
    poll(clock)
    keys = {channel: call.key for channel, call in read_snapshot().calls.items()}
    clock.advance(minutes=3)
    sim.end_call(second)  # the later call ends first: its row comes first
    clock.advance(seconds=2)
    poll(clock)
    clock.advance(minutes=2)
    sim.end_call(first)
    clock.advance(seconds=2)
    poll(clock)
    sync(clock)

    joined = {
        tracked.key.hex: tracked.record.calldate
        for tracked in TrackedCall.objects.select_related("record")
    }
    assert joined == {keys[first]: START, keys[second]: START + timedelta(minutes=1)}
    assert cdr_sync.sync_status(clock()).awaiting == 0


def test_the_periodic_sync_does_not_wait_while_the_sweep_stores(sim, clock, live_redis, caplog):
    caplog.set_level(logging.INFO, logger="calls.history.cdr_sync")
    sim.add_cdr(CALLER, "110", started_at=clock() - timedelta(minutes=5))
    with live_redis.lock(cdr_sync.LOCK_KEY, timeout=60):  # the sweep holds the store lock
        began = time.monotonic()
        sync(clock)
        waited = time.monotonic() - began

    assert waited < 5, "the sync blocked a worker waiting for the store lock"
    assert stored() == []
    assert "runs again" in caplog.text
    sync(clock)  # the next run stores
    assert_every_row_stored_once(sim)


def test_health_says_stale_when_no_sweep_has_ever_finished(sim, clock):
    sync(clock)
    for _ in range(3 * 6):  # three hours of periodic syncs, and no sweep
        clock.advance(minutes=10)
        sync(clock)
        assert not cdr_sync.sync_status(clock()).stale
    clock.advance(minutes=10)
    sync(clock)

    assert cdr_sync.sync_status(clock()).stale
    cdr_sync.sweep(now=clock())
    assert not cdr_sync.sync_status(clock()).stale


def test_a_sweep_stops_before_its_time_limit_and_the_next_one_continues(sim, clock, settings):
    clock.advance(hours=30)
    for hour in range(1, 24, 2):  # rows all over the day the sweep re-reads
        sim.add_cdr(CALLER, "110", started_at=clock() - timedelta(hours=hour), duration=3)
    sim.set_fault("latency", latency=0.2)  # a slow PBX: each window takes a while
    budget = cdr_sync.request_budget()
    assert budget >= 2 * settings.TELSAM_API_TIMEOUT  # a request may overrun by a socket read

    began = time.monotonic()
    cdr_sync.sweep(now=clock(), deadline=began + budget + 0.5)

    assert time.monotonic() - began < budget + 0.5, "a request started too close to the limit"
    first_pass = cdr_windows(sim)
    assert 1 <= len(first_pass) < 20, "the sweep did not stop at its deadline"
    assert cdr_sync.sync_status(clock()).swept_at is None  # no full pass yet
    sim.set_fault(None)
    sim.clear_request_log()
    clock.advance(hours=1)

    cdr_sync.sweep(now=clock())

    second_pass = cdr_windows(sim)
    assert second_pass[0][0] == first_pass[-1][1] - cdr_sync.OVERLAP  # on from where it stopped
    assert cdr_sync.sync_status(clock()).swept_at == clock()
    assert_every_row_stored_once(sim)


def test_the_sync_stops_before_its_time_limit_and_says_how_far_behind(sim, clock, caplog):
    sync(clock)
    clock.advance(hours=12)  # twelve windows to catch up
    sim.set_fault("latency", latency=0.2)
    began = time.monotonic()

    sync_recent(now=clock(), deadline=began + cdr_sync.request_budget() + 0.5)

    assert time.monotonic() - began < cdr_sync.request_budget() + 0.5
    assert 1 <= len(cdr_windows(sim)) < cdr_sync.WINDOWS_PER_RUN
    assert cdr_sync.sync_status(clock()).behind > timedelta(hours=1)
    assert "behind" in caplog.text


def test_the_task_limits_and_the_lock_follow_the_api_timeout(settings):
    from calls.tasks import sweep_cdr_task, sync_recent_cdr_task

    assert sync_recent_cdr_task.soft_time_limit == cdr_sync.sync_time_limit()
    assert sweep_cdr_task.soft_time_limit == cdr_sync.sweep_time_limit()
    for timeout in (settings.TELSAM_API_TIMEOUT, 120):
        settings.TELSAM_API_TIMEOUT = timeout
        budget = cdr_sync.request_budget()
        for soft in (cdr_sync.sync_time_limit(), cdr_sync.sweep_time_limit()):
            assert soft >= 3 * budget  # room for requests, however long the timeout
            assert cdr_sync.lock_timeout() > cdr_sync.hard_time_limit(soft)


def test_one_row_never_settles_two_calls_of_one_caller(sim, clock):
    first = sim.add_call(CALLER, "110", callinfo=CALLINFO_TALKING)
    clock.advance(seconds=30)
    second = sim.add_call(CALLER, "111", callinfo=CALLINFO_TALKING)  # in the same lookup window
    poll(clock)
    clock.advance(minutes=5)
    sim.end_call(first)
    clock.advance(seconds=2)
    poll(clock)
    sync(clock)  # the first call's row settles the first call
    sim.end_call(second, cdr_delay=3600)
    clock.advance(seconds=2)
    poll(clock)
    clock.advance(minutes=1)
    sync(clock)  # the window around the second call's start holds the first call's row again

    assert cdr_sync.sync_status(clock()).awaiting == 1  # still waiting for the second's own row
    clock.advance(hours=1, minutes=1)
    sync(clock)
    assert cdr_sync.sync_status(clock()).awaiting == 0
    assert_every_row_stored_once(sim)


def test_the_backfill_does_not_store_while_the_sync_holds_the_store_lock(sim, live_redis):
    sim.add_cdr(CALLER, "110", started_at=START + timedelta(hours=1))
    lock = live_redis.lock(cdr_sync.LOCK_KEY, timeout=60, thread_local=False)
    assert lock.acquire()
    released_at = []

    def the_sync_finishes() -> None:
        released_at.append(time.monotonic())
        lock.release()

    timer = threading.Timer(0.5, the_sync_finishes)  # a sync storing for half a second
    timer.start()
    try:
        call_command("sync_cdr", "--from", "2026-11-27", "--to", "2026-11-27", stdout=io.StringIO())
        finished_at = time.monotonic()
    finally:
        timer.join()

    assert finished_at > released_at[0], "the backfill stored while the sync held the lock"
    assert_every_row_stored_once(sim)


def test_beat_runs_the_sweep_at_least_hourly(settings):
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "calls.sweep_cdr"]
    assert entry["schedule"] <= 3600
    assert timedelta(seconds=entry["schedule"]) == cdr_sync.sweep_every()
    assert "calls.sweep_cdr" in app.tasks
    assert timedelta(hours=24) <= cdr_sync.SWEEP_SPAN
