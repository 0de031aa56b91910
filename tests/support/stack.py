"""The whole panel started for real as production runs it: the web server (uvicorn,
`telsam_panel.web`), a Celery worker and beat, against real Redis and a PBX simulator.

Tests that need more than one process (the poll scheduling tests, the end-to-end tests) and the
live-path benchmarks build on this instead of juggling `subprocess` themselves.

The subprocesses read their configuration from the environment, like a deployment: `panel_env`
builds it from the test process's own (pytest-env's Redis database and secrets) plus the simulator.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from calls.live.snapshot import load_snapshot_text, read_snapshot
from tests.support.pbx import PBX_PASSWORD, PBX_USER
from tests.support.processes import Process, celery, http_ok, manage, web_server
from tests.support.services import free_port, own_database_url
from tests.support.waiting import wait_for

# The stacks the browser tests run poll every second, so a page shows a change quickly.
POLL_INTERVAL = 1.0


def panel_env(
    pbx_url: str,
    *,
    database_url: str,
    poll_interval: float = 1.0,
    api_timeout: float = 5.0,
    **extra: str,
) -> dict[str, str]:
    """The environment of a panel process pointed at the simulator at `pbx_url`.

    It starts from this process's environment, so the tests' Redis database, secret key and
    DEBUG=false (pytest-env) carry over; the `.env` file next to manage.py only fills variables
    that are unset, and every one that matters is set here.
    """
    return {
        **os.environ,
        "TELSAM_API_URL": pbx_url,
        "TELSAM_API_USERNAME": PBX_USER,
        "TELSAM_API_PASSWORD": PBX_PASSWORD,
        "TELSAM_API_TIMEOUT": f"{api_timeout:g}",
        "TELSAM_POLL_INTERVAL": f"{poll_interval:g}",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        **extra,
    }


class PanelStack:
    """The whole panel (web server, worker, beat) on its own database, against `pbx_url`.

    Migrate and fill the database with `manage()` first; `start()` starts every process and
    `stop()` stops them. The web server can be stopped and started again on the same port in
    between, as an operator restarting it would.

    `redis_url` and `database_url` point the processes elsewhere than the tests' Redis database
    and the stack's own database (`own_database_url`); `redis_client` must then speak to
    that same Redis. `extra_env` sets more variables of their environment, `workers` is the
    Celery worker's concurrency.

    The live-path benchmarks use the same stack: they start the web server alone
    (`start_web`) and (re)start the poller with the interval each measurement needs
    (`start_poller`) while the web server and its sockets stay up.
    """

    def __init__(
        self,
        workdir: Path,
        pbx_url: str,
        redis_client: redis.Redis,
        *,
        poll_interval: float = POLL_INTERVAL,
        api_timeout: float = 1.0,
        redis_url: str | None = None,
        database_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        workers: int = 2,
    ) -> None:
        self.workdir = workdir
        self.redis = redis_client
        self.poll_interval = poll_interval
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/calls/"
        self.workers = workers
        self.env = panel_env(
            pbx_url,
            database_url=database_url or own_database_url(workdir),
            poll_interval=poll_interval,
            api_timeout=api_timeout,
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **(extra_env or {}),
        )
        # Like production: DEBUG off, static files collected (hashed, served by whitenoise) into
        # this run's own directory.
        self.env["STATIC_ROOT"] = str(workdir / "static")
        manage("collectstatic", "--noinput", "-v", "0", env=self.env)
        self.web = web_server(self.port, self.env, workdir)
        self.worker, self.beat = self._poller(poll_interval)

    def _poller(self, interval: float) -> tuple[Process, Process]:
        env = {**self.env, "TELSAM_POLL_INTERVAL": f"{interval:g}"}
        worker = celery("worker", env, self.workdir, concurrency=self.workers)
        return worker, celery("beat", env, self.workdir)

    @property
    def processes(self) -> tuple[Process, ...]:
        return (self.web, self.worker, self.beat)

    def manage(self, *args: str) -> str:
        return manage(*args, env=self.env)

    @contextmanager
    def serving(self, *setup_code: str) -> Iterator[PanelStack]:
        """Migrate, run each piece of `setup_code` in `manage.py shell`, start every process, and
        stop them all on the way out, whatever happened."""
        try:
            self.manage("migrate", "--no-input", "-v", "0")
            for code in setup_code:
                self.manage("shell", "-c", code)
            self.start()
            yield self
        finally:
            self.stop()

    def start(self) -> PanelStack:
        """Start every process and wait until a browser would get live data."""
        for process in self.processes:
            process.start()
        self.wait_for_web()
        self.wait_for_snapshot(lambda snapshot: snapshot["pbx"]["ok"], timeout=60)
        return self

    def stop(self) -> None:
        # Beat first, so no poll is queued for a worker that is going away.
        for process in (self.beat, self.worker, self.web):
            process.stop()

    def restart_web(self) -> None:
        self.web.stop()
        self.start_web()

    def start_web(self) -> float:
        """Start the web server alone; the monotonic time it first answered."""
        self.web.start()
        return self.wait_for_web()

    def wait_for_web(self, timeout: float = 60) -> float:
        """Wait until the web server answers; the monotonic time it did."""

        def up() -> bool:
            if not self.web.running:
                raise RuntimeError(f"the web server exited:\n{self.web.tail()}")
            return http_ok(f"{self.url}/accounts/login/")

        # A short step: the benchmarks time a restart by it.
        if not wait_for(up, timeout, step=0.05):
            raise RuntimeError(
                f"the web server did not answer within {timeout} s:\n{self.web.tail()}"
            )
        return time.monotonic()

    @property
    def interval(self) -> float | None:
        """The running poller's interval; None while no poller runs."""
        return self.poll_interval if self.worker.running else None

    def start_poller(self, interval: float) -> None:
        """(Re)start worker and beat polling every `interval` seconds; wait for two polls."""
        self.stop_poller()
        self.poll_interval = interval
        self.worker, self.beat = self._poller(interval)
        self.worker.start()
        self.beat.start()
        first = self.wait_for_snapshot(lambda s: s["seq"] >= 1, timeout=60)["seq"]
        self.wait_for_snapshot(lambda s: s["seq"] >= first + 1, timeout=10 * interval + 10)

    def stop_poller(self) -> None:
        # Beat first, so no poll is queued for a worker that is going away.
        for process in (self.beat, self.worker):
            process.stop()

    def pids(self) -> dict[str, int]:
        """The running processes' ids, by name."""
        return {p.name: p.pid for p in self.processes if p.pid is not None}

    def snapshot_text(self) -> str | None:
        """The live snapshot the last poll stored, as a connecting browser receives it."""
        return load_snapshot_text(self.redis)

    def snapshot(self) -> dict[str, Any] | None:
        """The live snapshot the last poll stored, as the message a browser decodes."""
        state = read_snapshot(self.redis)
        return dict(state.message()) if state is not None else None

    def seq(self) -> int:
        """The seq of the last poll stored (0 before the first)."""
        state = read_snapshot(self.redis)
        return state.seq if state is not None else 0

    def wait_for_snapshot(
        self, condition: Callable[[dict[str, Any]], Any], timeout: float = 10
    ) -> dict[str, Any]:
        """Wait until a poll stored a snapshot for which `condition` holds."""

        def check() -> dict[str, Any] | None:
            try:
                snapshot = self.snapshot()
            except redis.ConnectionError:
                return None  # a test that restarts Redis waits through its absence
            return snapshot if snapshot is not None and condition(snapshot) else None

        snapshot = wait_for(check, timeout, step=0.1)
        if snapshot is None:
            dead = [p.name for p in (self.worker, self.beat) if not p.running]
            try:
                last = self.snapshot()
            except redis.ConnectionError as exc:
                last = f"Redis unreachable: {exc}"
            raise AssertionError(
                f"no snapshot as expected within {timeout} s (dead: {dead or 'none'}); "
                f"last: {last}\n{self.logs()}"
            )
        return snapshot

    def wait_for_channels(self, *channels: str, timeout: float = 10) -> dict[str, Any]:
        """Wait until a good poll stored exactly these calls."""
        wanted = set(channels)
        return self.wait_for_snapshot(
            lambda s: s["pbx"]["ok"] and {c["channel"] for c in s["calls"]} == wanted, timeout
        )

    def logs(self, lines: int = 30) -> str:
        """The tail of every process's log, for a failure report."""
        return "\n".join(
            f"----- {p.name} ({'running' if p.running else 'stopped'}): {p.log_path}\n"
            f"{p.tail(lines)}"
            for p in self.processes
        )


def starts_processes(fixture_function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a fixture as starting the panel's processes (or Chromium): the tests that use it are
    marked `stack`, which `make test-fast` leaves out. Put it under `@pytest.fixture`."""
    fixture_function.starts_processes = True  # type: ignore[attr-defined]
    return fixture_function


def uses_processes(item: Any) -> bool:
    """Whether a collected test uses a fixture marked with `starts_processes`."""
    fixture_definitions = item._fixtureinfo.name2fixturedefs.values()
    return any(
        getattr(definition.func, "starts_processes", False)
        for definitions in fixture_definitions
        for definition in definitions
    )
