"""The soak (`make soak`, `python -m bench.soak`) in short: the whole panel under simulated
traffic, every PBX fault and a web-server restart, with every view compared with the simulator at
the end.

The short run proves the invariants the ten-minute run reports on; the small tests below prove the
soak's judge actually fails a run that loses calls or whose polls stop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from bench.soak_plan import plan
from bench.soak_report import POLL_GAP_BOUND_S, compare, poll_gaps
from calls.simulator import FAULT_KINDS
from tests.support.browser import CHROMIUM
from tests.support.processes import ROOT

CLIENTS = 3
SECONDS = 36


@pytest.fixture(scope="module")
def soak_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not CHROMIUM.exists():
        pytest.skip(f"the soak drives Chromium at {CHROMIUM}")
    assert int(urlsplit(settings.REDIS_URL).path.strip("/") or 0) != 0
    path = tmp_path_factory.mktemp("soak") / "report.json"
    argv = [sys.executable, "-m", "bench.soak", "--seconds", str(SECONDS)]
    argv += ["--clients", str(CLIENTS), "--customers", "120", "--json", str(path)]
    result = subprocess.run(
        [*argv, "--redis-url", settings.REDIS_URL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS + 150,
        check=False,
    )
    assert result.returncode == 0, (
        f"soak failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return json.loads(Path(path).read_text())


@pytest.mark.slow
@pytest.mark.e2e
def test_no_view_loses_or_invents_a_call_through_faults_and_a_restart(soak_report: dict) -> None:
    views = {view["name"]: view for view in soak_report["views"]}
    assert len(views) == CLIENTS + 2  # the clients, the server's snapshot and the Chromium page
    assert soak_report["calls"]["at_end"] >= 5  # a busy PBX, not an empty table compared
    for view in views.values():
        assert view["calls"] == soak_report["calls"]["at_end"], view["name"]
        assert (view["lost"], view["phantom"], view["stale"]) == ([], [], []), view["name"]
    assert soak_report["problems"] == []


@pytest.mark.slow
@pytest.mark.e2e
def test_every_fault_kind_failed_polls_and_polls_came_back(soak_report: dict) -> None:
    assert set(soak_report["fault_counts"]) == FAULT_KINDS
    polls = soak_report["polls"]
    assert polls["failed"] > 0
    assert polls["succeeded"] > polls["failed"]
    assert polls["recovery_after_last_fault_s"] <= POLL_GAP_BOUND_S
    assert polls["longest_gap_outside_faults_s"] <= POLL_GAP_BOUND_S


@pytest.mark.slow
@pytest.mark.e2e
def test_every_client_reconnects_after_the_web_server_restarts(soak_report: dict) -> None:
    ws = soak_report["websocket"]
    assert len(soak_report["restarts"]) == 1
    assert ws["disconnects_at_restarts"] >= CLIENTS
    assert ws["recoveries"] == ws["disconnects"]
    assert ws["reconnect_s"]["max"] < 30
    browser = soak_report["browser"]
    assert browser["disconnects"] >= 1
    assert browser["recoveries"] == browser["disconnects"]
    assert browser["page_errors"] == []


@pytest.mark.slow
@pytest.mark.e2e
def test_the_report_has_memory_at_start_and_end_of_every_process(soak_report: dict) -> None:
    memory = soak_report["memory_mb"]
    assert {"web server", "celery worker + pool", "celery beat"} <= set(memory)
    for name, reading in memory.items():
        assert reading["start"] > 0 and reading["end"] > 0, name
    # The web server that was restarted, read just before it was stopped.
    (before_restart,) = soak_report["web_rss_before_restarts_mb"]
    assert before_restart > 0


# --- the judge ----------------------------------------------------------------------------------

CALL = {"src": "905321234567", "dst": "101", "calltype": "Gelen Arama", "callinfo": "Konuşuyor"}


def test_it_counts_a_call_missing_from_a_view_as_lost_and_an_extra_one_as_phantom() -> None:
    truth = {"SIP/a": CALL, "SIP/b": CALL}
    view = {"SIP/a": CALL, "SIP/c": CALL}
    assert compare(truth, view) == {"lost": ["SIP/b"], "phantom": ["SIP/c"], "stale": []}


def test_it_counts_a_call_shown_with_an_old_state_as_stale() -> None:
    ringing = {**CALL, "callinfo": "Çalıyor"}
    assert compare({"SIP/a": CALL}, {"SIP/a": ringing})["stale"] == ["SIP/a"]
    # The page only shows the state: fields a view lacks are not compared.
    assert compare({"SIP/a": CALL}, {"SIP/a": {"callinfo": "Konuşuyor"}})["stale"] == []


def test_polls_that_stop_without_a_fault_are_a_gap_and_during_a_fault_are_not() -> None:
    successes = [0.0, 1.0, 2.0, 9.0, 10.0, 25.0, 26.0]
    gaps = poll_gaps(successes, faults=[(2.5, 8.0)], run_end=26.5)
    assert gaps["longest_gap_s"] == 15.0
    assert gaps["longest_gap_outside_faults_s"] == 15.0  # 10 → 25 with no fault in force
    assert gaps["recovery_after_last_fault_s"] == 1.0


def test_polls_that_never_come_back_after_a_fault_have_no_recovery_time() -> None:
    gaps = poll_gaps([0.0, 1.0], faults=[(1.5, 3.0)], run_end=60.0)
    assert gaps["recovery_after_last_fault_s"] is None
    assert gaps["longest_gap_s"] == 59.0


@pytest.mark.parametrize("seconds", [30, SECONDS, 600])
def test_the_schedule_runs_every_fault_kind_one_at_a_time_and_ends_calm(seconds: int) -> None:
    schedule = plan(seconds, FAULT_KINDS)
    # Every kind the simulator offers: a new one needs its options in bench/soak_plan.py.
    assert {fault.kind for fault in schedule.faults} == FAULT_KINDS
    for fault, following in pairwise(schedule.faults):
        assert following.at > fault.end
    assert schedule.faults[-1].end <= seconds - schedule.quiet_tail + 1e-9
    assert all(0 < restart < seconds - schedule.quiet_tail for restart in schedule.restarts)
