"""The panel's processes, started for real as production runs them: the web server (uvicorn,
`telsam_panel.web`), a Celery worker and beat, against real Redis and a PBX simulator.

Tests that need more than one process (the poll scheduling tests, the end-to-end tests) build on
this instead of juggling `subprocess` themselves. Every process writes its output to a log file
whose tail a failing test can print, and every process is stopped however the test ends.

The subprocesses read their configuration from the environment, like a deployment: `panel_env`
builds it from the test process's own (pytest-env's Redis database and secrets) plus the simulator.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import redis

from calls.live.snapshot import read_snapshot
from tests.conftest import PBX_PASSWORD, PBX_USER

ROOT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT = 15.0


def wait_for(condition: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    """Call `condition` until it returns something truthy or `timeout` seconds pass; its last
    result either way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step)
    return condition()


def free_port() -> int:
    """A TCP port nobody listens on right now (for a server that cannot be told to pick one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def own_database_url(workdir: Path) -> str:
    """A database of a stack's own on the backend the suite runs on: an SQLite file in `workdir`,
    or, when the tests run on PostgreSQL (`DATABASE_URL=postgres://…`, as CI's second run does),
    a fresh PostgreSQL database on that server, dropped when the test session ends."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith(("postgres://", "postgresql://")):
        return sqlite_url(workdir / "stack.sqlite3")
    import psycopg

    name = f"telsam_stack_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(suite_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    atexit.register(_drop_database, suite_url, name)
    return suite_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sqlite_url(path: Path) -> str:
    """`DATABASE_URL` for an SQLite file (an absolute path gives the four slashes)."""
    return f"sqlite:///{path.resolve()}"


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


class Process:
    """One long-running process of the stack; stdout and stderr go to `log_path` (appended to,
    so a restarted process keeps its earlier lines)."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Process {self.name} {state}>"

    def start(self) -> Process:
        if self.running:
            return self
        with self.log_path.open("ab") as log:
            log.write(f"--- starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash (no clean shutdown, nothing saved); `start()` brings it back."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self.popen = None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (a clean shutdown, as a service manager does), SIGKILL if it lingers."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None

    def log_offset(self) -> int:
        """Where the log ends now, for `log_since`."""
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        """What the process logged after `log_offset()` returned `offset`."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def celery(role: str, env: Mapping[str, str], workdir: Path, log_level: str = "WARNING") -> Process:
    """A Celery `worker` or `beat` of the panel (not started yet)."""
    arguments = {
        "worker": ["worker", "--concurrency", "2", "--without-gossip", "--without-mingle"],
        "beat": ["beat", "--schedule", str(workdir / "beat-schedule")],
    }[role]
    argv = [sys.executable, "-m", "celery", "-A", "telsam_panel", *arguments, "-l", log_level]
    return Process(role, argv, env, workdir / f"{role}.log")


def web_server(port: int, env: Mapping[str, str], workdir: Path) -> Process:
    """The web server (HTTP and websockets) on 127.0.0.1:`port`, as deployed (not started yet)."""
    argv = [sys.executable, "-m", "telsam_panel.web", "--host", "127.0.0.1", "--port", str(port)]
    return Process("web", argv, env, workdir / "web.log")


def redis_server(port: int, workdir: Path) -> Process:
    """A private Redis on 127.0.0.1:`port` that keeps nothing on disk, like the shared one: a
    restart loses every key (not started yet; see `wait_for_redis`)."""
    argv = [
        "redis-server",
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
    ]
    return Process(f"redis-{port}", argv, os.environ, workdir / f"redis-{port}.log")


def wait_for_redis(url: str, timeout: float = 10) -> None:
    """Wait until the Redis at `url` answers a PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        if not wait_for(answers, timeout, step=0.05):
            raise RuntimeError(f"Redis at {url} did not answer within {timeout} s")
    finally:
        client.close()


@contextmanager
def running(*processes: Process) -> Iterator[tuple[Process, ...]]:
    """Start the processes and stop all of them on the way out, whatever happened."""
    with ExitStack() as stack:
        for process in processes:
            stack.callback(process.stop)
            process.start()
        yield processes


def run_manage(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a `manage.py` command to completion, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manage(*args: str, env: Mapping[str, str], timeout: float = 120) -> str:
    """Run a `manage.py` command to completion; its output, or an error that shows it."""
    result = run_manage(*args, env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def http_ok(url: str) -> bool:
    """Whether `url` answers 2xx/3xx right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return response.status < 400
    except (urllib.error.URLError, OSError):
        return False


class PanelStack:
    """The whole panel (web server, worker, beat) on its own database, against `pbx_url`.

    Migrate and fill the database with `manage()` first; `start()` starts every process and
    `stop()` stops them. The web server can be stopped and started again on the same port in
    between, as an operator restarting it would.

    `redis_url` and `database_url` point the processes elsewhere than the tests' Redis database
    and the stack's own database (`own_database_url`); `redis_client` must then speak to
    that same Redis. `extra_env` sets more variables of their environment.
    """

    def __init__(
        self,
        workdir: Path,
        pbx_url: str,
        redis_client: redis.Redis,
        *,
        poll_interval: float = 1.0,
        api_timeout: float = 1.0,
        redis_url: str | None = None,
        database_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.redis = redis_client
        self.poll_interval = poll_interval
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
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
        self.worker = celery("worker", self.env, workdir)
        self.beat = celery("beat", self.env, workdir)

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
        self.web.start()
        self.wait_for_web()

    def wait_for_web(self, timeout: float = 60) -> None:
        def up() -> bool:
            if not self.web.running:
                raise RuntimeError(f"the web server exited:\n{self.web.tail()}")
            return http_ok(f"{self.url}/accounts/login/")

        if not wait_for(up, timeout, step=0.2):
            raise RuntimeError(
                f"the web server did not answer within {timeout} s:\n{self.web.tail()}"
            )

    def snapshot(self) -> dict[str, Any] | None:
        """The live snapshot the last poll stored (what a connecting browser receives)."""
        state = read_snapshot(self.redis)
        return dict(state.message()) if state is not None else None

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
