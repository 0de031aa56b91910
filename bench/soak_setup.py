"""What the soak needs before the run: a Redis of its own, Django pointed at a fresh SQLite file,
customers and users in it, logged-in sessions for the clients, a simulator clock that can be
stopped, and memory readings of the processes."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from tests.support.services import free_port, redis_server, wait_for_redis
from tests.support.services import redis_database as redis_database  # for the soak's --redis-url

DATABASE_FILE = "soak.sqlite3"

_FIRST_NAMES = ("Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Hatice", "Ali", "Zeynep")
_LAST_NAMES = ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk", "Arslan")
_COMPANIES = ("Tekstil A.Ş.", "Gıda Ltd. Şti.", "Lojistik", "İnşaat", "Otomotiv", "")
# Mobile prefixes in use in Turkey, so every generated number is a valid one.
_MOBILE_PREFIXES = ("505", "506", "532", "533", "535", "542", "543", "553", "555")


class FreezableClock:
    """The simulator's clock: real time until `freeze()`, then that instant for good.

    A frozen clock stops the simulated traffic (nothing arrives, rings, or hangs up any more) while
    the PBX keeps answering, so the panel's view can be compared with a truth that holds still.
    """

    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self._frozen or datetime.now(UTC)

    def freeze(self) -> datetime:
        self._frozen = datetime.now(UTC)
        return self._frozen


class PrivateRedis:
    """A throw-away `redis-server` on a free loopback port: nothing to flush, nobody's data near."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError(
                "redis-server is not installed: install it, or pass --redis-url with a database "
                "the soak may flush"
            )
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = redis_server(self.port, workdir)

    @property
    def popen(self) -> subprocess.Popen[bytes] | None:
        return self.server.popen

    def start(self) -> None:
        self.server.start()
        wait_for_redis(self.url, timeout=15)

    def stop(self) -> None:
        self.server.stop(timeout=10)


def database_url(workdir: Path) -> str:
    return f"sqlite:///{(workdir / DATABASE_FILE).resolve()}"


def configure_django(workdir: Path, redis_url: str) -> None:
    """Point this process and every process it starts at the soak's Redis and database.

    Everything that matters is set explicitly, so a developer's `.env` (which only fills unset
    variables) cannot point the soak at the demo's data.
    """
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "telsam_panel.settings",
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url(workdir),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


@dataclass(frozen=True)
class Seeded:
    caller_pool: list[str]  # the customers' numbers as the PBX sends them
    customers: int
    browser_username: str
    browser_password: str
    cookies: list[str]  # one logged-in session per client, as a Cookie header value


def seed_database(*, customers: int, clients: int, users: int, seed: int) -> Seeded:
    """Migrate the fresh database and fill it: customers whose numbers the simulator's callers
    use, agents for the clients (each client gets a session of its own) and one for the browser,
    who logs in through the form like a person."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.test import Client

    from calls.models import AgentProfile
    from customers.phones import pbx_format
    from customers.services import customer_create

    call_command("migrate", verbosity=0)
    rng = random.Random(f"soak-customers:{seed}")
    numbers: set[str] = set()
    while len(numbers) < customers * 1.2:
        numbers.add(f"+90{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**7):07d}")
    pool = sorted(numbers)
    rng.shuffle(pool)
    agents = Group.objects.get(name="Agents")
    user_model = get_user_model()
    with transaction.atomic():
        for i in range(customers):
            # Every fifth customer has a second number (a mobile and an office line).
            phones = [pool[i]] + ([pool[customers + i // 5]] if i % 5 == 0 else [])
            customer_create(
                name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
                company=rng.choice(_COMPANIES),
                phones=phones,
            )
        password = secrets.token_urlsafe(16)
        browser_user = user_model.objects.create_user("soak-browser", password=password)
        browser_user.groups.add(agents)
        # Screen-pops for a quarter of the simulator's extensions, as on an agent's desk.
        AgentProfile.objects.create(user=browser_user, extensions="101, 102, 103")
        agent_users = []
        for i in range(users):
            user = user_model.objects.create_user(f"soak-agent-{i:02d}", password=None)
            user.groups.add(agents)
            agent_users.append(user)
    cookies = []
    for i in range(clients):
        client = Client()
        client.force_login(agent_users[i % len(agent_users)])
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    connections.close_all()  # the stack's processes write this SQLite file from now on
    caller_pool = [pbx_format(n) for n in pool[: customers + (customers + 4) // 5]]
    return Seeded(caller_pool, customers, browser_user.username, password, cookies)


def rss_mb(pid: int | None, *, with_children: bool = False) -> float | None:
    """Resident memory of a process (and its children, e.g. Celery's pool) in MiB; None if gone."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        members = [process, *(process.children(recursive=True) if with_children else [])]
        total = 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return round(total / 2**20, 1)
    except psutil.NoSuchProcess:
        return None


def chromium_rss_mb() -> float | None:
    """All of this process's Chromium processes together (browser, renderer, GPU, …)."""
    total = 0
    found = False
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                total += child.memory_info().rss
                found = True
        except psutil.NoSuchProcess:
            continue
    return round(total / 2**20, 1) if found else None


def machine() -> dict[str, object]:
    """What the run ran on, for the report."""
    import platform

    return {
        "cores": psutil.cpu_count(logical=True),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def stop_on_sigterm_like_ctrl_c() -> None:
    """Let SIGTERM (a CI runner's stop, `kill`) end this process as Ctrl-C does, so that every
    `finally` runs and the processes it started are stopped. asyncio's runner turns the SIGINT
    into a cancellation; outside the event loop it is a KeyboardInterrupt."""
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(os.getpid(), signal.SIGINT))
