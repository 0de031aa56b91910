"""The panel's long-running processes, started for real as production runs them, and its
management commands. Every process writes its output to a log file whose tail a failing test can
print, and is stopped however the test ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 15.0


class Process:
    """One long-running process; stdout and stderr go to `log_path` (appended to, so a restarted
    process keeps its earlier lines)."""

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

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.running and self.popen is not None else None

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


def celery(
    role: str,
    env: Mapping[str, str],
    workdir: Path,
    log_level: str = "WARNING",
    concurrency: int = 2,
) -> Process:
    """A Celery `worker` or `beat` of the panel (not started yet)."""
    worker = ("--concurrency", str(concurrency), "--without-gossip", "--without-mingle")
    arguments = {
        "worker": ["worker", *worker],
        "beat": ["beat", "--schedule", str(workdir / "beat-schedule")],
    }[role]
    argv = [sys.executable, "-m", "celery", "-A", "telsam_panel", *arguments, "-l", log_level]
    return Process(role, argv, env, workdir / f"{role}.log")


def web_server(port: int, env: Mapping[str, str], workdir: Path) -> Process:
    """The web server (HTTP and websockets) on 127.0.0.1:`port`, as deployed (not started yet)."""
    argv = [sys.executable, "-m", "telsam_panel.web", "--host", "127.0.0.1", "--port", str(port)]
    return Process("web", argv, env, workdir / "web.log")


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


def http_answers(url: str, *, ok_only: bool = True) -> bool:
    """Whether `url` answers right now: with 2xx/3xx, or (`ok_only=False`) with any status, as a
    health check that says 503 still answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return response.status < 400 or not ok_only
    except urllib.error.HTTPError:
        return not ok_only
    except (urllib.error.URLError, OSError):
        return False


def http_ok(url: str) -> bool:
    """Whether `url` answers 2xx/3xx right now."""
    return http_answers(url)
