"""The secrets sweep: the whole panel runs for real (web server, Celery worker and beat) with
sentinel secrets everywhere a deployment has one — the PBX password, SECRET_KEY, a PostgreSQL
password in DATABASE_URL, a Redis password in REDIS_URL — and LOG_LEVEL=DEBUG (urllib3 logs every
request URL, password included, at DEBUG). Every failure path is driven: each PBX fault the
simulator knows, a PBX that echoes the request URL in its error page, a PBX that is gone, a hang-up
the PBX refuses, a 404, a server error with DEBUG on (the error page shows every frame's variables),
the admin crawled page by page, the websocket's messages, and the management commands we ship. Then
every process log, page, message and command output is searched for each sentinel, raw, URL-encoded,
HTML-escaped and JSON-escaped.

Not swept: `manage.py diffsettings` and `shell`, Django's own tools that print the settings to
whoever can already read the environment.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus, urljoin, urlsplit

import pytest
import redis
import requests
from websockets.sync.client import connect

from calls.live.snapshot import read_snapshot
from calls.simulator import FAULT_KINDS
from tests.support import services
from tests.support.pbx import PBX_USER, SimulatedPbx
from tests.support.personas import SAM
from tests.support.processes import celery, http_ok, run_manage, web_server
from tests.support.services import free_port, redis_server, wait_for_redis
from tests.support.stack import panel_env
from tests.support.waiting import wait_for, wait_until

pytestmark = pytest.mark.slow

TOKEN = secrets.token_hex(6)
# Special characters on purpose in the PBX password: it travels URL-encoded.
SENTINELS = {
    "PBX password": f"Pbx-S3ntinel&pw={TOKEN}/+%",
    "SECRET_KEY": f"SecretKey-S3ntinel-{TOKEN}-" + secrets.token_urlsafe(32),
    "database password": f"Db-S3ntinel-{TOKEN}",
    "Redis password": f"Redis-S3ntinel-{TOKEN}",
}
SUPERUSER = ("root", "root-sweep-pass-123")
SUPERVISOR = (SAM.username, SAM.password)
CALLER = "905321234567"


def spellings(secret: str) -> set[str]:
    """Every way a page, a URL, a log line or a JSON message could spell the secret."""
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        quote(secret),
        html.escape(secret),
        json.dumps(secret)[1:-1],
    }


@dataclass
class Evidence:
    """Everything the sweep saw, by where it came from."""

    texts: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    faults_seen: set[str] = field(default_factory=set)

    def add(self, source: str, text: str) -> None:
        self.texts[source] = self.texts.get(source, "") + text


# --- the pieces of the stack ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory) -> Iterator[str]:
    """A Redis of our own that wants a password (the shared one has none)."""
    port = free_port()
    server = redis_server(
        port, tmp_path_factory.mktemp("redis"), password=SENTINELS["Redis password"]
    ).start()
    url = f"redis://:{SENTINELS['Redis password']}@127.0.0.1:{port}/0"
    try:
        wait_for_redis(url)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of our own; the server trusts local connections, so any password
    in the URL is accepted, and the panel carries it around like a real one."""
    with services.postgres_database(prefix="telsam_sweep") as url:
        yield url.replace("postgres@", f"postgres:{SENTINELS['database password']}@", 1)


def _run(*args: str, env: dict[str, str]) -> str:
    """A management command's whole output, whether it succeeds or not."""
    result = run_manage(*args, env=env)
    return f"$ manage.py {' '.join(args)} → {result.returncode}\n{result.stdout}{result.stderr}"


# --- driving it ----------------------------------------------------------------------------------


class Panel:
    """The running stack and a way to read what it shows."""

    def __init__(
        self, env: dict[str, str], workdir: Path, pbx: SimulatedPbx, evidence: Evidence
    ) -> None:
        self.env, self.workdir, self.pbx, self.evidence = env, workdir, pbx, evidence
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis = redis.Redis.from_url(env["REDIS_URL"])
        self.processes = [
            web_server(self.port, env, workdir),
            celery("worker", env, workdir, log_level="DEBUG"),
            celery("beat", env, workdir, log_level="DEBUG"),
        ]

    def snapshot(self) -> dict | None:
        state = read_snapshot(self.redis)
        return dict(state.message()) if state is not None else None

    def wait_until(self, condition, what: str, timeout: float = 20) -> dict:
        snapshot = wait_for(
            lambda: (s := self.snapshot()) is not None and condition(s) and s, timeout
        )
        assert snapshot, f"{what}: not within {timeout} s; last {self.snapshot()}\n{self.tails()}"
        return snapshot

    def tails(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail(30)}" for p in self.processes)

    def session(self, username: str, password: str) -> requests.Session:
        browser = requests.Session()
        browser.get(f"{self.url}/accounts/login/", timeout=10)
        response = browser.post(
            f"{self.url}/accounts/login/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                "next": "/",
            },
            timeout=10,
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:500]
        return browser

    def fetch(self, browser: requests.Session, path: str, label: str = "", **kwargs) -> str:
        method = kwargs.pop("method", "get")
        response = getattr(browser, method)(
            urljoin(self.url, path), timeout=30, allow_redirects=False, **kwargs
        )
        source = f"{method.upper()} {label or path}"
        self.evidence.add(source, f"{response.headers}\n{response.text}")
        self.evidence.statuses[source] = response.status_code
        return response.text


class WebsocketListener(threading.Thread):
    """A panel's websocket, keeping every message until stopped."""

    def __init__(self, panel: Panel, browser: requests.Session) -> None:
        super().__init__(daemon=True)
        self.uri = f"ws://127.0.0.1:{panel.port}/ws/calls/"
        self.cookie = f"sessionid={browser.cookies['sessionid']}"
        self.origin = panel.url
        self.messages: list[str] = []
        self.connected = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        with connect(
            self.uri,
            origin=self.origin,
            additional_headers={"Cookie": self.cookie},
            proxy=None,
            open_timeout=20,
        ) as socket:
            self.connected.set()
            while not self.stopping.is_set():
                try:
                    self.messages.append(socket.recv(timeout=0.5))
                except TimeoutError:
                    continue


FAULTS = {  # kind → the simulator's arguments; each makes polls fail
    "latency": {"latency": 2.5},
    "hang": {"latency": 2.5},
    "trickle": {"latency": 3.0},
    "http_500": {},
    "html": {},
    "truncated": {},
    "success_false": {},
}


def _echoing_faults() -> dict[str, dict]:
    """A PBX whose error page repeats the request URL, password and all, as many servers do."""
    echoed = (
        f"/?username={PBX_USER}&password={quote_plus(SENTINELS['PBX password'])}&action=activecalls"
    )
    return {
        "raw 404": {
            "kind": "raw",
            "status": 404,
            "content_type": "text/html",
            "body": f"<h1>Not Found</h1><p>The requested URL {echoed} was not found.</p>",
        },
        "raw 200": {
            "kind": "raw",
            "status": 200,
            "content_type": "text/plain",
            "body": f"error near {echoed}: password {SENTINELS['PBX password']} rejected",
        },
    }


def drive_pbx_faults(panel: Panel) -> None:
    sim = panel.pbx.sim
    plans = {kind: {"kind": kind, **arguments} for kind, arguments in FAULTS.items()}
    if "raw" in FAULT_KINDS:
        plans.update(_echoing_faults())
    for label, plan in plans.items():
        arguments = dict(plan)
        sim.set_fault(arguments.pop("kind"), **arguments)
        panel.wait_until(lambda s: not s["pbx"]["ok"], f"fault {label}")
        panel.evidence.faults_seen.add(label)
        sim.set_fault(None)
        panel.wait_until(lambda s: s["pbx"]["ok"], f"recovery from {label}")
    # The PBX gone altogether: connections refused.
    panel.pbx.stop()
    panel.wait_until(lambda s: not s["pbx"]["ok"], "PBX gone")
    panel.evidence.faults_seen.add("refused")
    panel.pbx.start()
    panel.wait_until(lambda s: s["pbx"]["ok"], "PBX back")


def drive_refused_hangup(panel: Panel, supervisor: requests.Session) -> None:
    sim = panel.pbx.sim
    channel = sim.add_call(CALLER, "110", callinfo="Konuşuyor")
    panel.wait_until(lambda s: channel in {c["channel"] for c in s["calls"]}, "the live call")
    page = panel.fetch(supervisor, "/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    sim.set_fault("success_false")
    panel.fetch(
        supervisor,
        "/calls/hangup/",
        "hangup refused by the PBX",
        method="post",
        data={"channel": channel},
        headers={"X-CSRFToken": token},
    )
    sim.set_fault(None)
    panel.fetch(
        supervisor,
        "/calls/hangup/",
        "hangup of a forged channel",
        method="post",
        data={"channel": f"{channel}&action=cdr"},
        headers={"X-CSRFToken": token},
    )


def crawl(panel: Panel, browser: requests.Session, start: str, prefix: str, limit: int) -> int:
    """Follow the links under `prefix` from `start`, breadth first; how many pages were read."""
    seen, queue = set(), [start]
    # Every page once: no query strings (the list filters repeat the same page), nothing that
    # logs out, deletes or changes a password.
    skip = re.compile(r"logout|delete|password|/export/|\?")
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page = panel.fetch(browser, path)
        for link in re.findall(r'href="([^"#]+)"', page):
            link = html.unescape(urljoin(path, link))
            parts = urlsplit(link)
            if parts.netloc or not parts.path.startswith(prefix) or skip.search(link):
                continue
            if link not in seen:
                queue.append(link)
    return len(seen)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory, private_redis, postgres_database) -> Evidence:
    workdir = tmp_path_factory.mktemp("sweep")
    found = Evidence()
    pbx = SimulatedPbx(password=SENTINELS["PBX password"], seed=3)
    env = panel_env(
        pbx.url,
        database_url=postgres_database,
        poll_interval=1.0,
        api_timeout=1.0,
        REDIS_URL=private_redis,
        SECRET_KEY=SENTINELS["SECRET_KEY"],
        TELSAM_API_PASSWORD=SENTINELS["PBX password"],
        LOG_LEVEL="DEBUG",
        STATIC_ROOT=str(workdir / "static"),
    )
    commands = workdir / "commands.log"

    def run(*args: str, environment: dict[str, str] = env) -> None:
        with commands.open("a") as log:
            log.write(_run(*args, env=environment) + "\n")

    run("migrate", "--no-input")
    run("collectstatic", "--no-input")
    run(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Group\n"
        "from customers.services import customer_create\n"
        f"get_user_model().objects.create_superuser({SUPERUSER[0]!r}, password={SUPERUSER[1]!r})\n"
        "from tests.support.personas import SAM, create\n"
        "create(SAM)\n"
        "customer_create(name='Ayşe', phones=['0532 123 45 67'])\n",
    )
    panel = Panel(env, workdir, pbx, found)
    # The web server again, with DEBUG on and a database that is down: a server error whose
    # report shows each frame's variables (the database driver's hold the password).
    broken_port = free_port()
    broken = web_server(
        broken_port,
        {
            **env,
            "DEBUG": "true",
            "DATABASE_URL": postgres_database.replace(":5432/", f":{free_port()}/"),
        },
        workdir / "broken",
    )
    (workdir / "broken").mkdir()
    listener = None
    try:
        for process in [*panel.processes, broken]:
            process.start()
        assert wait_for(lambda: http_ok(f"{panel.url}/accounts/login/"), 60), panel.tails()
        panel.wait_until(lambda s: s["pbx"]["ok"], "the first good poll", timeout=60)

        supervisor = panel.session(*SUPERVISOR)
        listener = WebsocketListener(panel, supervisor)
        listener.start()
        assert listener.connected.wait(20), "the websocket did not open"

        drive_pbx_faults(panel)
        drive_refused_hangup(panel, supervisor)
        run("sync_cdr", "--from", "2026-11-01", "--to", "2026-11-02")
        pbx.sim.set_fault("http_500")
        run("sync_cdr", "--from", "2026-11-01", "--to", "2026-11-02")
        run("doctor")
        pbx.sim.set_fault(None)
        run("check")
        run("check", "--deploy")
        run("doctor")
        run("showmigrations", "customers")

        anonymous = requests.Session()
        for path in ["/no/such/page/", "/healthz", "/healthz/data", "/accounts/login/", "/jsi18n/"]:
            panel.fetch(anonymous, path, f"{path} (anonymous)")
        root = panel.session(*SUPERUSER)
        panel.fetch(root, "/no/such/page/", "404 page (logged in)")
        for path in ["/", "/history/", "/callbacks/", "/stats/", "/profile/", "/healthz/data"]:
            panel.fetch(root, path)
        found.statuses["admin pages crawled"] = crawl(panel, root, "/admin/", "/admin/", 150)

        assert wait_for(lambda: _answers(f"http://127.0.0.1:{broken_port}/accounts/login/"), 60), (
            broken.tail()
        )
        panel.fetch(
            requests.Session(),
            f"http://127.0.0.1:{broken_port}/",
            "server error page (DEBUG, database down)",
            cookies={"sessionid": "x" * 32},
        )
        panel.fetch(
            requests.Session(),
            f"http://127.0.0.1:{broken_port}/healthz",
            "health check (database down)",
        )
        # One more poll's log lines after the last page: that poll has logged all it will once
        # the next one reaches the PBX (polls never overlap).
        after_pages = time.time()
        wait_until(
            lambda: (
                sum(
                    e.at.timestamp() > after_pages and e.action == "activecalls"
                    for e in pbx.sim.request_log()
                )
                >= 2
            ),
            30,
            what="two polls after the last page",
        )
    finally:
        if listener is not None:
            listener.stopping.set()
            listener.join(timeout=10)
        for process in [broken, *reversed(panel.processes)]:
            process.stop()
        pbx.stop()
    for process in [*panel.processes, broken]:
        found.add(f"log of {process.name} ({process.log_path.name})", process.log_path.read_text())
    found.add("management commands", commands.read_text())
    if listener is not None:
        found.add("websocket messages", "\n".join(listener.messages))
        found.messages = [json.loads(m) for m in listener.messages]
    return found


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


# --- the sweep -----------------------------------------------------------------------------------


def test_the_sweep_saw_every_failure_it_was_meant_to(evidence):
    assert set(FAULTS) <= evidence.faults_seen
    if "raw" in FAULT_KINDS:  # a PBX that repeats our request URL, password and all
        assert {"raw 404", "raw 200"} <= evidence.faults_seen
    assert "refused" in evidence.faults_seen
    statuses = evidence.statuses
    assert statuses["POST hangup refused by the PBX"] == 502
    assert statuses["POST hangup of a forged channel"] == 404
    assert statuses["GET 404 page (logged in)"] == 404
    assert statuses["GET server error page (DEBUG, database down)"] == 500
    assert "OperationalError" in evidence.texts["GET server error page (DEBUG, database down)"]
    assert statuses["GET health check (database down)"] == 503
    assert statuses["admin pages crawled"] > 25
    # DEBUG logging was really on: urllib3 logged the PBX requests.
    assert "urllib3.connectionpool" in evidence.texts["log of worker (worker.log)"]
    assert "password=***" in evidence.texts["log of worker (worker.log)"]
    # The panel's websocket told of the faults.
    errors = {m["pbx"]["error"] for m in evidence.messages if m.get("pbx") and m["pbx"]["error"]}
    assert len(errors) >= 5, errors


@pytest.mark.parametrize("secret", sorted(SENTINELS))
def test_a_secret_appears_nowhere(evidence, secret):
    forms = spellings(SENTINELS[secret])
    leaks = [
        f"{source}: …{text[max(0, text.find(form) - 120) : text.find(form) + 40]}…"
        for source, text in evidence.texts.items()
        for form in forms
        if form in text
    ]
    assert leaks == [], "\n".join(leaks)
