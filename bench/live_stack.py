"""What the live-path benchmarks share: the panel's processes as production runs them (the
tests' own stack, tests/support/stack.py, with the benchmark's sizes), the PBX simulator in this
process (so the moment a call starts and the moment the PBX answered are known exactly), logged-in
sessions, client fleets, and CPU and memory readings of every process.

Everything runs on loopback. Redis is database 9 of the local server (`BENCH_REDIS_URL`), flushed
at the start; the database is the benchmark's own (`bench.setup_django`).
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from tests.support.pbx import PBX_PASSWORD, PBX_USER
from tests.support.stack import PanelStack

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
EXTENSIONS = tuple(str(n) for n in range(101, 113))


def setup(backend: str) -> str:
    """Point this process at a fresh benchmark database and Redis database 9; the database URL.

    Redis is flushed: only the benchmark's own database, never 0.
    """
    if urlsplit(REDIS_URL).path.strip("/") in ("", "0"):
        raise SystemExit("BENCH_REDIS_URL must name a Redis database other than 0")
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DEBUG"] = "false"
    from bench.setup_django import database_url, fresh_database

    fresh_database(backend)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return database_url(backend)


# --- data -------------------------------------------------------------------------------------


def seed(customers: int, sessions: int, users: int = 50) -> tuple[list[str], list[str]]:
    """Customers (one mobile number each) and agents with `sessions` logged-in sessions.

    Returns the customers' numbers as the PBX sends them and one `Cookie` header per session.
    Sessions are written as Django's login writes them, in bulk (a thousand logins through the form
    would measure the login page instead).
    """
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from customers.models import Customer, PhoneNumber

    numbers = [f"+90532{index:07d}" for index in range(customers)]
    created = Customer.objects.bulk_create(
        Customer(name=f"Müşteri {index}", company="Bench A.Ş.") for index in range(customers)
    )
    if not created or created[0].pk is None:  # SQLite before 3.35 returns no ids
        created = list(Customer.objects.order_by("id"))
    PhoneNumber.objects.bulk_create(
        PhoneNumber(customer=customer, number=number)
        for customer, number in zip(created, numbers, strict=True)
    )
    agents, _ = Group.objects.get_or_create(name="Agents")
    user_model = get_user_model()
    people = []
    for index in range(users):
        user = user_model.objects.create_user(f"bench-agent-{index:03d}", password=None)
        user.groups.add(agents)
        people.append(user)
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows, cookies = [], []
    for index in range(sessions):
        user = people[index % users]
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(
            Session(session_key=key, session_data=SessionStore().encode(data), expire_date=expires)
        )
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={key}")
    Session.objects.bulk_create(rows, batch_size=500)
    from django.db import connections

    connections.close_all()  # the stack's processes use the database from now on
    return [number.lstrip("+") for number in numbers], cookies


# --- the PBX ----------------------------------------------------------------------------------


def timed_simulator(**options: Any) -> Any:
    """A `PbxSimulator` that also notes when it answered each `activecalls` request and with
    which channels: the start of "our own overhead"."""
    from calls.simulator import PbxSimulator

    class TimedSimulator(PbxSimulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.answers: list[tuple[float, frozenset[str]]] = []

        def api_payload(self, params: Any) -> Any:
            payload = super().api_payload(params)
            if params.get("action") == "activecalls" and payload[0].get("success"):
                channels = frozenset(row["channel"] for row in payload[0]["data"])
                self.answers.append((time.monotonic(), channels))
            return payload

        def answered_at(self, channel: str, after: float) -> float | None:
            """When the first answer after `after` that contained `channel` was made."""
            for at, channels in self.answers:
                if at >= after and channel in channels:
                    return at
            return None

        def activecalls_between(self, start: float, end: float) -> int:
            return sum(1 for at, _ in self.answers if start <= at < end)

    return TimedSimulator(PBX_USER, PBX_PASSWORD, **options)


# --- the panel's processes --------------------------------------------------------------------


def live_stack(workdir: Path, pbx_url: str, database_url: str, *, workers: int = 2) -> PanelStack:
    """The panel's processes on the benchmark's database and Redis (not started: the web server
    is started by `live_bench`, the poller by each measurement with the interval it needs).
    `workers` is the Celery worker's concurrency."""
    import redis

    return PanelStack(
        workdir,
        pbx_url,
        redis.Redis.from_url(REDIS_URL),
        redis_url=REDIS_URL,
        database_url=database_url,
        extra_env={"PYTHONWARNINGS": "ignore"},
        workers=workers,
    )


# --- the clients ------------------------------------------------------------------------------


class Fleet:
    """One `bench/live_fleet.py` process and its pipes."""

    def __init__(self, ws_url: str, cookies: Sequence[str], workdir: Path, name: str) -> None:
        cookies_file = workdir / f"{name}.cookies"
        cookies_file.write_text("\n".join(cookies) + "\n")
        self.log = (workdir / f"{name}.log").open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bench.live_fleet", ws_url, str(cookies_file), "7"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self.answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.answers.put(line)

    def send(self, command: dict[str, Any]) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(command) + "\n")
        self.popen.stdin.flush()

    def answer(self, timeout: float) -> dict[str, Any]:
        try:
            return json.loads(self.answers.get(timeout=timeout))
        except queue.Empty:
            raise RuntimeError(f"the client fleet did not answer within {timeout} s") from None

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                self.send({"cmd": "quit"})
                self.popen.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.popen.kill()
                self.popen.wait()
        self.log.close()


class Fleets:
    """Clients spread over `processes` fleet processes, asked together."""

    def __init__(
        self, ws_url: str, cookies: Sequence[str], workdir: Path, processes: int = 1
    ) -> None:
        self.fleets = [
            Fleet(ws_url, cookies[index::processes], workdir, f"fleet-{index}")
            for index in range(processes)
        ]
        self.size = 0

    def ask(self, command: dict[str, Any], timeout: float = 120) -> list[dict[str, Any]]:
        for fleet in self.fleets:
            fleet.send(command)
        return [fleet.answer(timeout) for fleet in self.fleets]

    def grow(self, to: int, batch: int = 100) -> dict[str, Any]:
        """Open clients up to `to` in batches of `batch` (split over the processes)."""
        count = len(self.fleets)
        shares = [to // count + (1 if index < to % count else 0) for index in range(count)]
        for fleet, share in zip(self.fleets, shares, strict=True):
            fleet.send({"cmd": "grow", "to": share, "batch": max(1, batch // count)})
        answers = [fleet.answer(600) for fleet in self.fleets]
        self.size = to
        steps = max(len(a["batches_s"]) for a in answers)
        batches = [
            max(a["batches_s"][i] for a in answers if i < len(a["batches_s"])) for i in range(steps)
        ]
        return {
            "open": sum(a["open"] for a in answers),
            "batches_s": batches,
            "failures": sum(a["failures"] for a in answers),
        }

    def reset(self) -> None:
        self.ask({"cmd": "reset"})

    def set_poll_interval(self, seconds: float | None) -> None:
        """Tell the clients the server's poll interval, which their silence watchdog counts in
        (None: the poller is stopped on purpose, the watchdog waits)."""
        self.ask({"cmd": "poll_interval", "seconds": seconds})

    def status(self) -> dict[str, Any]:
        answers = self.ask({"cmd": "status"})
        return {key: _merge([a[key] for a in answers]) for key in answers[0]}

    def report(self, channels: Iterable[str]) -> tuple[dict[str, list[float]], dict[str, int]]:
        """Receipt times per channel (all clients) and the message counters, summed."""
        answers = self.ask({"cmd": "report", "channels": list(channels)})
        receipts: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        for answer in answers:
            for channel, times in answer["receipts"].items():
                receipts.setdefault(channel, []).extend(times)
            for key, value in answer["counts"].items():
                counts[key] = counts.get(key, 0) + value
        return receipts, counts

    def wait_receipts(self, channels: Iterable[str], timeout: float) -> bool:
        answers = self.ask(
            {"cmd": "wait_receipts", "channels": list(channels), "timeout": timeout}, timeout + 30
        )
        return all(a["complete"] for a in answers)

    def reconnect_all(self) -> float:
        """Cut every client's socket at once; they reconnect at once. The earliest cut time."""
        return min(a["cut_at"] for a in self.ask({"cmd": "reconnect_all"}))

    def wait_back(self, since: float, up: float, timeout: float) -> dict[str, Any]:
        answers = self.ask(
            {"cmd": "wait_back", "since": since, "up": up, "timeout": timeout}, timeout + 30
        )
        lasts = [a["last_back_at"] for a in answers if a["last_back_at"] is not None]
        return {
            "back": sum(a["back"] for a in answers),
            "total": sum(a["total"] for a in answers),
            "last_back_at": max(lasts) if lasts else None,
            "failed_before_up": sum(a["failed_before_up"] for a in answers),
            "failed_after_up": sum(a["failed_after_up"] for a in answers),
            "unauthenticated": sum(a["unauthenticated"] for a in answers),
            "failure_kinds": _merge([a["failure_kinds"] for a in answers]),
        }

    def pids(self) -> list[int]:
        return [fleet.popen.pid for fleet in self.fleets]

    def stop(self) -> None:
        for fleet in self.fleets:
            fleet.stop()


def _merge(values: list[Any]) -> Any:
    """Sum numbers, or add up dicts of numbers key by key."""
    if values and isinstance(values[0], dict):
        merged: dict[str, Any] = {}
        for value in values:
            for key, number in value.items():
                merged[key] = merged.get(key, 0) + number
        return merged
    return sum(values)


# --- all of it together -----------------------------------------------------------------------


@dataclass
class Bench:
    sim: Any  # the timed simulator
    stack: PanelStack
    fleets: Fleets
    pool: list[str]  # the customers' numbers as the PBX sends them
    workdir: Path
    cookies: list[str] = field(default_factory=list)  # one `Cookie` header per session

    def add_background_calls(self, count: int, rng: random.Random) -> None:
        """`count` calls in progress, known customers calling round the extensions: the steady
        load every live measurement runs beside."""
        from calls.simulator import CALLINFO_TALKING

        for index in range(count):
            self.sim.add_call(
                rng.choice(self.pool),
                EXTENSIONS[index % len(EXTENSIONS)],
                callinfo=CALLINFO_TALKING,
            )


@contextmanager
def live_bench(
    backend: str,
    *,
    sessions: int,
    workers: int = 2,
    fleet_processes: int | None = None,
    traffic: bool = False,
    customers: int = 2000,
    keep: bool = False,
) -> Iterator[Bench]:
    """A fresh database with customers and `sessions` logged-in sessions, the simulator (with
    busy generated traffic if `traffic`), the web server up (the poller is started by the
    caller), and the client fleets (no client open yet). Everything is stopped on the way out,
    and the web server's log is printed if something failed."""
    from bench.soak_setup import stop_on_sigterm_like_ctrl_c

    stop_on_sigterm_like_ctrl_c()
    database_url = setup(backend)
    pool, cookies = seed(customers, sessions)
    from calls.simulator import SimulatorServer

    options: dict[str, Any] = {"traffic": False}
    if traffic:
        # A busy call centre: a new call every 2 s on average, up to 40 at once, 60 % of the
        # callers known customers; no history to pre-fill.
        options = {
            "traffic": True,
            "seed": 2026,
            "caller_pool": pool[:1000],
            "mean_gap": 2.0,
            "max_concurrent": 40,
            "history_hours": 0,
        }
    sim = timed_simulator(**options)
    pbx = SimulatorServer(sim).start()
    workdir = Path(tempfile.mkdtemp(prefix="telsam-live-"))
    stack = live_stack(workdir, pbx.url, database_url, workers=workers)
    processes = fleet_processes or max(1, -(-sessions // 500))
    fleets = Fleets(stack.ws_url, cookies, workdir, processes)
    try:
        stack.start_web()
        yield Bench(sim, stack, fleets, pool, workdir, cookies)
    except BaseException:
        print(stack.logs(), file=sys.stderr)
        raise
    finally:
        fleets.stop()
        stack.stop()
        pbx.stop()
        if keep:
            print(f"work directory: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --- readings ---------------------------------------------------------------------------------


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU time of a process (and its children: Celery's pool) so far."""
    try:
        process = psutil.Process(pid)
        members = [process, *(process.children(recursive=True) if children else [])]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for member in members:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@dataclass
class CpuMeter:
    """CPU used by named processes over a window, as a percentage of one core."""

    pids: dict[str, list[int]]
    started: float = field(default_factory=time.monotonic)
    before: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = {name: self._cpu(pids) for name, pids in self.pids.items()}
        self.started = time.monotonic()

    @staticmethod
    def _cpu(pids: list[int]) -> float:
        return sum(cpu_seconds(pid, children=True) for pid in pids)

    def percent(self) -> dict[str, float]:
        elapsed = max(1e-6, time.monotonic() - self.started)
        return {
            name: round(100 * (self._cpu(pids) - self.before[name]) / elapsed, 1)
            for name, pids in self.pids.items()
        }


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (share 0.95 = p95) of `values`; None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def machine() -> dict[str, Any]:
    return {
        "cores": psutil.cpu_count(logical=True),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout: what `bench/run.py` collects."""
    print(json.dumps(record, ensure_ascii=False), flush=True)
