"""`make soak`: the whole panel under load and faults for ten minutes, on loopback only.

It starts a private Redis, a fresh SQLite database with a few hundred customers, the PBX simulator
(in this process, with busy traffic: tens of calls at once, callers partly known customers), and
the panel as production runs it (uvicorn, a Celery worker and beat, polling every second). Then N
websocket clients that speak the protocol as the browser does (`bench.protocol_client`) and one
real Chromium page watch the calls while the simulator fails in every way it knows, a few seconds
at a time, and the web server is restarted. At the end the traffic is frozen, two polls pass, and
every view is compared with the simulator's truth.

    .venv/bin/python -m bench.soak [--minutes 10 | --seconds S] [--clients 50] [--json PATH]

Exit status: 0 passed, 1 a problem was found (lost or phantom calls, polls stopped for longer than
the bound, …), 2 the run could not be completed (the stack did not start, or a process would not
restart), 130 interrupted. Every process it started is
stopped however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import redis

from bench import soak_report, soak_setup
from bench.protocol_client import LiveClient
from bench.soak_plan import MIN_DURATION_S, Schedule, plan, unknown_kinds

POLL_INTERVAL_S = 1.0
API_TIMEOUT_S = 1.0
# Bounds on every wait, so a broken stack fails the run instead of hanging it.
CONNECT_TIMEOUT_S = 90.0
END_TIMEOUT_S = 45.0
WATCHDOG_MARGIN_S = 300.0


class SetupError(RuntimeError):
    """The stack or the clients could not be brought up: no run took place."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=10.0, help="run length (default 10)")
    length.add_argument(
        "--seconds", type=float, help=f"run length in seconds (at least {MIN_DURATION_S})"
    )
    parser.add_argument("--clients", type=int, default=50, help="websocket clients (default 50)")
    parser.add_argument("--customers", type=int, default=300, help="customers (default 300)")
    parser.add_argument("--max-calls", type=int, default=40, help="most calls at once (40)")
    parser.add_argument(
        "--mean-gap", type=float, default=2.5, help="mean seconds between two new calls (2.5)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the simulated traffic")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument(
        "--redis-url",
        help="use this Redis database (it is flushed; never database 0) instead of starting a "
        "private redis-server",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    args.duration = args.seconds if args.seconds is not None else args.minutes * 60
    if args.duration < MIN_DURATION_S:
        parser.error(f"a soak run needs at least {MIN_DURATION_S} seconds")
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    if args.redis_url and soak_setup.redis_database(args.redis_url) == 0:
        parser.error("--redis-url must not be database 0 (the demo's): the soak flushes it")
    return args


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


async def wait_until(condition: Callable[[], Any], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(step)
    return bool(condition())


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


def _epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


class Soak:
    """The measured part of a run, once the stack is up."""

    def __init__(self, args: argparse.Namespace, stack: Any, sim: Any, clock: Any, seeded: Any):
        from calls.simulator import FAULT_KINDS

        self.args = args
        self.stack = stack
        self.sim = sim
        self.clock = clock
        self.seeded = seeded
        self.schedule: Schedule = plan(args.duration, FAULT_KINDS)
        self.kinds_not_injected = unknown_kinds(FAULT_KINDS)
        self.successes: list[float] = []  # wall-clock times of successful polls (last_ok_at)
        self.concurrent: list[int] = []
        self.channels_seen: set[str] = set()
        self.fault_log: list[dict[str, Any]] = []
        self.restart_log: list[dict[str, Any]] = []

    # --- during the run -------------------------------------------------------------------------

    async def monitor(self) -> None:
        """Sample the live snapshot: successful polls (their `last_ok_at`) and calls on screen."""
        last_ok = None
        while True:
            snapshot = self.stack.snapshot()
            if snapshot is not None:
                ok_at = snapshot["pbx"]["last_ok_at"]
                if ok_at and ok_at != last_ok:
                    last_ok = ok_at
                    self.successes.append(_epoch(ok_at))
                self.concurrent.append(len(snapshot["calls"]))
                self.channels_seen.update(call["channel"] for call in snapshot["calls"])
            await asyncio.sleep(0.2)

    async def inject_faults(self, t0: float) -> None:
        try:
            for fault in self.schedule.faults:
                await sleep_until(t0 + fault.at)
                began = time.time()
                self.sim.set_fault(fault.kind, **fault.options)
                log(f"PBX fault {fault.kind} for {fault.length:g} s")
                await sleep_until(t0 + fault.end)
                self.sim.set_fault(None)
                self.fault_log.append(
                    {
                        "kind": fault.kind,
                        "at_s": round(began - t0, 1),
                        "length_s": round(time.time() - began, 1),
                        "options": dict(fault.options),
                        "window": (began, time.time()),
                    }
                )
        finally:
            self.sim.set_fault(None)

    async def restart_web(self, t0: float) -> None:
        for at in self.schedule.restarts:
            await sleep_until(t0 + at)
            log("restarting the web server (stopped, then started)")
            # The end of this web server's life: the report's "end" is its successor's.
            rss_before = soak_setup.rss_mb(_pid(self.stack.web))
            began = time.time()
            await asyncio.to_thread(self.stack.restart_web)
            up = time.time()
            self.restart_log.append(
                {
                    "at_s": round(began - t0, 1),
                    "down_s": round(up - began, 1),
                    "web_rss_before_mb": rss_before,
                    "window": (began, up),
                }
            )
            log(f"web server answering again after {up - began:.1f} s")

    def memory(self) -> dict[str, float | None]:
        stack = self.stack
        readings = {
            "web server": soak_setup.rss_mb(_pid(stack.web)),
            "celery worker + pool": soak_setup.rss_mb(_pid(stack.worker), with_children=True),
            "celery beat": soak_setup.rss_mb(_pid(stack.beat)),
            "soak process (clients, simulator)": soak_setup.rss_mb(os.getpid()),
            "chromium (all processes)": soak_setup.chromium_rss_mb(),
        }
        if self.args.private_redis_pid:
            readings["redis-server"] = soak_setup.rss_mb(self.args.private_redis_pid)
        return readings

    # --- the run --------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        from playwright.async_api import async_playwright

        from bench.soak_browser import PanelPage
        from calls.live.snapshot import poll_counters

        stack, args = self.stack, self.args
        ws_url = stack.url.replace("http://", "ws://", 1) + "/ws/calls/"
        clients = [
            LiveClient(
                f"client-{i:02d}",
                ws_url,
                cookie,
                rng=random.Random(args.seed + i),
                poll_interval=POLL_INTERVAL_S,
            )
            for i, cookie in enumerate(self.seeded.cookies)
        ]
        tasks: list[asyncio.Task[Any]] = []
        page = PanelPage(stack.url, self.seeded.browser_username, self.seeded.browser_password)
        async with async_playwright() as playwright:
            try:
                log("opening the panel in Chromium (login form)")
                await asyncio.wait_for(page.open(playwright), CONNECT_TIMEOUT_S)
                log(f"connecting {len(clients)} websocket clients")
                tasks = [asyncio.create_task(c.run_forever()) for c in clients]
                if not await wait_until(lambda: all(c.connected for c in clients), 60):
                    raise SetupError(
                        f"only {sum(c.connected for c in clients)} of {len(clients)} clients "
                        "got a snapshot within 60 s"
                    )
                memory_start = self.memory()
                counters_start = poll_counters()
                t0 = time.time()
                log(f"soak running for {args.duration:g} s")
                if self.kinds_not_injected:
                    log(f"fault kinds the soak cannot inject yet: {self.kinds_not_injected}")
                tasks.append(asyncio.create_task(self.monitor()))
                faults = asyncio.create_task(self.inject_faults(t0))
                restarts = asyncio.create_task(self.restart_web(t0))
                tasks += [faults, restarts]
                await sleep_until(t0 + args.duration)
                # Both end well before the run does; the bound is for a machine that stalls.
                await asyncio.wait_for(asyncio.gather(faults, restarts), 120)
                end = await self.finish(clients, page)
                end["memory_end"] = self.memory()
                end["counters"] = _delta(poll_counters(), counters_start)
                end["dead_processes"] = [p.name for p in stack.processes if not p.running]
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await page.close()
        return self.report(t0, memory_start, end, clients, page)

    async def finish(self, clients: list[Any], page: Any) -> dict[str, Any]:
        """Freeze the traffic, let two polls pass, and compare every view with the truth."""
        self.sim.set_fault(None)
        frozen_at = self.clock.freeze()
        log("traffic frozen; waiting for two polls and for every view to catch up")
        after = frozen_at.timestamp()
        polled = await wait_until(
            lambda: sum(t > after for t in self.successes) >= 2, END_TIMEOUT_S
        )
        snapshot = self.stack.snapshot() or {"seq": math.inf, "calls": []}
        target = snapshot["seq"]
        await wait_until(
            lambda: all(c.connected and c.seq is not None and c.seq >= target for c in clients),
            END_TIMEOUT_S,
        )
        truth = {row["channel"]: row for row in self.sim.active_calls()}
        views = []
        server = {call["channel"]: call for call in snapshot["calls"]}
        views.append({"name": "server snapshot (Redis)", "calls": len(server)})
        views[-1].update(soak_report.compare(truth, server))
        for client in clients:
            view = {
                "name": client.name,
                "calls": len(client.calls),
                "disconnects": client.stats.disconnects,
                "recoveries": client.stats.recoveries,
                "resyncs": client.stats.resyncs,
                "in_sync": client.connected and client.seq is not None and client.seq >= target,
                "note": f"seq {client.seq}, server {target}, connected {client.connected}",
            }
            view.update(soak_report.compare(truth, client.calls))
            views.append(view)

        # The page renders what its socket delivered; give it a moment to draw the last diff.
        expected = {channel: {"callinfo": row["callinfo"]} for channel, row in truth.items()}

        async def rows() -> dict[str, dict[str, str]]:
            return {ch: {"callinfo": info} for ch, info in (await page.rows()).items()}

        deadline = time.monotonic() + 15
        shown = await rows()
        while shown != expected and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            shown = await rows()
        state = await page.state()
        views.append(
            {
                "name": "Chromium page",
                "calls": len(shown),
                "disconnects": page.stats.disconnects,
                "recoveries": page.stats.recoveries,
                "resyncs": "",
                "in_sync": state in ("live", "pbx-down"),
                "note": f"indicator {state!r}",
                **soak_report.compare(truth, shown),
            }
        )
        return {"polls_after_freeze": polled, "truth": len(truth), "views": views}

    def report(
        self, t0: float, memory_start: dict, end: dict[str, Any], clients: list[Any], page: Any
    ) -> dict[str, Any]:
        counters = end["counters"]
        windows = [f["window"] for f in self.fault_log]
        gaps = soak_report.poll_gaps(
            [t for t in self.successes if t >= t0], windows, run_end=time.time()
        )
        stats = [c.stats for c in clients]
        restart_windows = [(r["window"][0], r["window"][1] + 10) for r in self.restart_log]
        views = end["views"]
        report: dict[str, Any] = {
            "started_at": datetime.fromtimestamp(t0, UTC).isoformat(timespec="seconds"),
            "machine": soak_setup.machine(),
            "duration_s": self.args.duration,
            "clients": len(clients),
            "settings": {
                "poll_interval_s": POLL_INTERVAL_S,
                "pbx_timeout_s": API_TIMEOUT_S,
                "seed": self.args.seed,
                "customers": self.seeded.customers,
                "max_concurrent_calls": self.args.max_calls,
                "mean_gap_s": self.args.mean_gap,
            },
            "calls": {
                "concurrent_min": min(self.concurrent, default=0),
                "concurrent_max": max(self.concurrent, default=0),
                "concurrent_mean": round(sum(self.concurrent) / max(1, len(self.concurrent)), 1),
                "distinct": len(self.channels_seen),
                "at_end": end["truth"],
            },
            "polls": {
                "attempted": counters.get("ok", 0) + counters.get("pbx_error", 0),
                "succeeded": counters.get("ok", 0),
                "failed": counters.get("pbx_error", 0),
                "skipped": counters.get("skipped", 0),
                **gaps,
            },
            "faults": [{k: v for k, v in f.items() if k != "window"} for f in self.fault_log],
            "fault_counts": dict(Counter(f["kind"] for f in self.fault_log)),
            # Kinds the simulator offers but the soak has no options for (see soak_plan.FAULTS).
            "fault_kinds_not_injected": self.kinds_not_injected,
            "restarts": [{k: v for k, v in r.items() if k != "window"} for r in self.restart_log],
            "websocket": {
                "disconnects": sum(s.disconnects for s in stats),
                "recoveries": sum(s.recoveries for s in stats),
                "disconnects_at_restarts": sum(
                    1
                    for s in stats
                    for at in s.disconnected_at
                    if any(a <= at <= b for a, b in restart_windows)
                ),
                "clients_disconnected": sum(1 for s in stats if s.disconnects),
                "unrecovered": sum(1 for c in clients if c.stats.disconnects > c.stats.recoveries),
                "unauthenticated": sum(1 for c in clients if c.unauthenticated),
                "forbidden": sum(1 for c in clients if c.forbidden),
                "failed_attempts": sum(s.failed_attempts for s in stats),
                "resyncs": sum(s.resyncs for s in stats),
                "watchdog_resyncs": sum(s.watchdog_resyncs for s in stats),
                "watchdog_drops": sum(s.watchdog_drops for s in stats),
                "diffs_applied": sum(s.diffs_applied for s in stats),
                "reconnect_s": soak_report.seconds_summary(
                    [t for s in stats for t in s.reconnect_s]
                ),
            },
            "browser": {
                "sockets_opened": page.stats.sockets_opened,
                "disconnects": page.stats.disconnects,
                "failed_attempts": page.stats.failed_attempts,
                "recoveries": page.stats.recoveries,
                "page_errors": page.stats.page_errors,
            },
            "memory_mb": {
                name: {"start": memory_start.get(name), "end": value}
                for name, value in end["memory_end"].items()
            },
            # A new web server after each restart: the RSS of each one just before it was stopped.
            "web_rss_before_restarts_mb": [r["web_rss_before_mb"] for r in self.restart_log],
            "end": {"polls_after_freeze": end["polls_after_freeze"]},
            "views": views,
            "lost": sum(len(v["lost"]) for v in views),
            "phantom": sum(len(v["phantom"]) for v in views),
            "stale": sum(len(v["stale"]) for v in views),
            "dead_processes": end["dead_processes"],
            "secrets_in_logs": [],  # filled in once every process has stopped
        }
        return report


def _pid(process: Any) -> int | None:
    return process.popen.pid if process.popen is not None else None


def _delta(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: now.get(key, 0) - before.get(key, 0) for key in set(now) | set(before)}


def secrets_in_logs(workdir: Path, password: str) -> list[str]:
    """Log files of the run that contain the PBX password in any form it travels in."""
    forms = {password, quote(password, safe=""), quote_plus(password)}
    return sorted(
        path.name
        for path in workdir.glob("*.log")
        if any(form in path.read_text(errors="replace") for form in forms)
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    soak_setup.stop_on_sigterm_like_ctrl_c()
    workdir = Path(tempfile.mkdtemp(prefix="telsam-soak-"))
    private_redis = None if args.redis_url else soak_setup.PrivateRedis(workdir)
    redis_url = args.redis_url or private_redis.url
    stack = server = None
    report: dict[str, Any] | None = None
    try:
        soak_setup.configure_django(workdir, redis_url)
        from calls.simulator import PbxSimulator, SimulatorServer
        from tests.support.pbx import PBX_PASSWORD, PBX_USER
        from tests.support.stack import PanelStack

        if private_redis is not None:
            private_redis.start()
        args.private_redis_pid = private_redis.popen.pid if private_redis else None
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        log(f"work directory {workdir}; Redis {redis_url}")
        seeded = soak_setup.seed_database(
            customers=args.customers,
            clients=args.clients,
            users=min(args.clients, 10),
            seed=args.seed,
        )
        log(f"database ready: {seeded.customers} customers, {args.clients} client sessions")
        clock = soak_setup.FreezableClock()
        sim = PbxSimulator(
            PBX_USER,
            PBX_PASSWORD,
            seed=args.seed,
            traffic=True,
            caller_pool=seeded.caller_pool,
            clock=clock,
            mean_gap=args.mean_gap,
            max_concurrent=args.max_calls,
        )
        server = SimulatorServer(sim).start()
        stack = PanelStack(
            workdir,
            server.url,
            client,
            poll_interval=POLL_INTERVAL_S,
            api_timeout=API_TIMEOUT_S,
            redis_url=redis_url,
            database_url=soak_setup.database_url(workdir),
        )
        log("starting the web server, the Celery worker and beat")
        try:
            stack.start()
        except (RuntimeError, AssertionError) as exc:
            raise SetupError(str(exc)) from exc
        soak = Soak(args, stack, sim, clock, seeded)
        report = asyncio.run(asyncio.wait_for(soak.run(), args.duration + WATCHDOG_MARGIN_S))
    except KeyboardInterrupt:
        print("\nInterrupted: stopping every process.", file=sys.stderr)
        return 130
    except (SetupError, TimeoutError, RuntimeError) as exc:
        # RuntimeError: tests/support/stack.py's word for a process that would not (re)start.
        print(f"\nThe soak could not run to its end: {exc}", file=sys.stderr)
        if stack is not None:
            print(stack.logs(), file=sys.stderr)
        args.keep = True
        return 2
    finally:
        if stack is not None:
            stack.stop()
        if server is not None:
            server.stop()
        if private_redis is not None:
            private_redis.stop()
        elif args.redis_url and report is not None:
            redis.Redis.from_url(args.redis_url).flushdb()  # leave the database as found: empty
        if report is not None:
            report["secrets_in_logs"] = secrets_in_logs(workdir, PBX_PASSWORD)
            report["problems"] = soak_report.verdict(report)
            if report["problems"]:
                args.keep = True
        if args.keep:
            print(f"Logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(soak_report.render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
