"""Judging a soak run: gaps between successful polls, each view against the simulator's truth, the
verdict, and the report as a table. Pure functions of what the run measured."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

# After a fault ends, or while none is in force, polls must never stop for longer than this. At a
# 1 s interval a healthy panel stays far below it; a stuck worker or a lost beat does not.
POLL_GAP_BOUND_S = 10.0
COMPARED_FIELDS = ("src", "dst", "calltype", "callinfo")


def _overlaps(start: float, end: float, windows: Iterable[tuple[float, float]]) -> bool:
    return any(start < w_end and end > w_start for w_start, w_end in windows)


def poll_gaps(
    successes: Sequence[float], faults: Sequence[tuple[float, float]], run_end: float
) -> dict[str, Any]:
    """Gaps between successful polls (wall-clock times), overall and where no PBX fault was in
    force, and how long polls took to succeed again after each fault."""
    times = sorted(set(successes))
    gaps = list(pairwise(times))
    # The stretch from the last success to the end of the run counts too: polls that died at the
    # end are a gap as well.
    if times and run_end > times[-1]:
        gaps.append((times[-1], run_end))
    longest = max((b - a for a, b in gaps), default=math.inf)
    calm = [b - a for a, b in gaps if not _overlaps(a, b, faults)]
    recoveries = []
    for _, fault_end in faults:
        after = [t for t in times if t >= fault_end]
        recoveries.append(after[0] - fault_end if after else math.inf)
    return {
        "successes": len(times),
        "longest_gap_s": _round(longest),
        "longest_gap_outside_faults_s": _round(max(calm, default=0.0)),
        "longest_recovery_after_fault_s": _round(max(recoveries, default=0.0)),
        "recovery_after_last_fault_s": _round(recoveries[-1]) if recoveries else None,
        "bound_s": POLL_GAP_BOUND_S,
    }


def _round(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 2)


def compare(
    truth: Mapping[str, Mapping[str, Any]], view: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Lost calls (in truth, not in the view), phantom calls (in the view, not in truth), and
    stale ones (in both, but a field the view has differs)."""
    lost = sorted(set(truth) - set(view))
    phantom = sorted(set(view) - set(truth))
    stale = sorted(
        channel
        for channel in set(truth) & set(view)
        if any(
            view[channel][f] != truth[channel][f]
            for f in COMPARED_FIELDS
            if f in view[channel] and f in truth[channel]
        )
    )
    return {"lost": lost, "phantom": phantom, "stale": stale}


def seconds_summary(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "median": None, "max": None}
    return {
        "count": len(values),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }


def verdict(report: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a run, in words; empty when it passed."""
    problems = []
    for view in report["views"]:
        for kind in ("lost", "phantom", "stale"):
            if view[kind]:
                problems.append(f"{view['name']}: {len(view[kind])} {kind} call(s)")
        if not view.get("in_sync", True):
            problems.append(f"{view['name']}: not up to date at the end ({view.get('note')})")
    polls = report["polls"]
    if not report["end"]["polls_after_freeze"]:
        problems.append("polls did not succeed after the traffic was frozen")
    for key in ("longest_gap_outside_faults_s", "recovery_after_last_fault_s"):
        value = polls[key]
        if value is None or value > polls["bound_s"]:
            problems.append(f"polls stopped: {key} = {value} (bound {polls['bound_s']} s)")
    if polls["succeeded"] <= 0:
        problems.append("no poll succeeded")
    ws = report["websocket"]
    if ws["unrecovered"]:
        problems.append(f"{ws['unrecovered']} client(s) never recovered from a disconnect")
    if ws["unauthenticated"]:
        problems.append(f"{ws['unauthenticated']} client(s) were refused as logged out")
    if ws.get("forbidden"):
        problems.append(f"{ws['forbidden']} client(s) were refused the live calls (4403)")
    if report["browser"]["disconnects"] > report["browser"]["recoveries"]:
        problems.append("the Chromium page did not recover from a disconnect")
    if report["browser"]["page_errors"]:
        problems.append(f"Chromium page errors: {report['browser']['page_errors'][:3]}")
    if report["secrets_in_logs"]:
        problems.append(f"the PBX password appears in {report['secrets_in_logs']}")
    if report["dead_processes"]:
        problems.append(f"processes died: {report['dead_processes']}")
    return problems


def render(report: Mapping[str, Any]) -> str:
    """The report as plain-text tables, for a terminal and for docs/soak.md."""
    polls, ws, mem = report["polls"], report["websocket"], report["memory_mb"]
    lines = [
        f"Soak run {report['started_at']} on {report['machine']['cores']} cores, "
        f"{report['machine']['ram_gib']} GiB RAM ({report['machine']['system']})",
        "",
        "| measure | value |",
        "|---|---|",
        f"| duration | {report['duration_s']:.0f} s (+ setup and a frozen end) |",
        f"| clients | {report['clients']} websocket clients + 1 Chromium page |",
        f"| calls | {report['calls']['concurrent_min']}–{report['calls']['concurrent_max']} "
        f"at once (mean {report['calls']['concurrent_mean']}), "
        f"{report['calls']['distinct']} distinct during the run, "
        f"{report['calls']['at_end']} at the end |",
        f"| polls attempted / succeeded | {polls['attempted']} / {polls['succeeded']} "
        f"({polls['failed']} PBX errors, {polls['skipped']} skipped while one ran) |",
        f"| longest gap between successful polls | {polls['longest_gap_s']} s overall, "
        f"{polls['longest_gap_outside_faults_s']} s outside faults (bound {polls['bound_s']} s) |",
        f"| polls back after a fault | at most {polls['longest_recovery_after_fault_s']} s, "
        f"{polls['recovery_after_last_fault_s']} s after the last |",
        f"| faults injected | {len(report['faults'])}: "
        + ", ".join(f"{kind} ×{n}" for kind, n in report["fault_counts"].items())
        + " |",
        f"| web server restarts | {len(report['restarts'])} (down "
        + ", ".join(f"{r['down_s']} s" for r in report["restarts"])
        + ") |",
        f"| websocket disconnects / recoveries | {ws['disconnects']} / {ws['recoveries']} "
        f"(Chromium: {report['browser']['disconnects']} / {report['browser']['recoveries']}) |",
        f"| reconnect time | median {ws['reconnect_s']['median']} s, "
        f"max {ws['reconnect_s']['max']} s |",
        f"| resyncs asked | {ws['resyncs']} after a gap or a new run, "
        f"{ws.get('watchdog_resyncs', 0)} after a silence "
        f"({ws.get('watchdog_drops', 0)} unanswered: socket dropped) |",
        f"| lost / phantom / stale calls | {report['lost']} / {report['phantom']} / "
        f"{report['stale']} (all views) |",
        "",
        "| process | RSS at start (MiB) | RSS at end (MiB) |",
        "|---|---|---|",
        *(f"| {name} | {m['start']} | {m['end']} |" for name, m in mem.items()),
        "",
        "The web server is a new process after each restart; RSS of each just before it stopped: "
        + ", ".join(f"{rss} MiB" for rss in report["web_rss_before_restarts_mb"])
        + ".",
        "",
        "| view | calls | lost | phantom | stale | disconnects | recoveries | resyncs |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {v['name']} | {v['calls']} | {len(v['lost'])} | {len(v['phantom'])} | "
            f"{len(v['stale'])} | {v.get('disconnects', '')} | {v.get('recoveries', '')} | "
            f"{v.get('resyncs', '')} |"
            for v in report["views"]
        ),
        "",
        "Result: "
        + ("PASS" if not report["problems"] else "FAIL\n  - " + "\n  - ".join(report["problems"])),
    ]
    return "\n".join(lines)
