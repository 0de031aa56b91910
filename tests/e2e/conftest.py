"""End-to-end fixtures: the whole panel as real processes, the PBX simulator in this process, and
real Chromium logging in through the login form.

The web server, worker and beat cannot see pytest-django's test database, so these tests never use
the `db` fixture: the stack gets a database of its own (an SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL), migrated and filled through `manage.py`.
The stack is started once per module (about ten seconds) and stopped however the module ends;
each test gets an empty simulator and fresh browser contexts (screen-pops are claimed once per call
in localStorage, so a shared context would hide them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from calls.simulator import PbxSimulator, SimulatorServer
from tests.conftest import PBX_PASSWORD, PBX_USER
from tests.stack import ROOT, PanelStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1366, "height": 768}
POLL_INTERVAL = 1.0
# Page loads and logins on a busy two-core CI machine.
PAGE_TIMEOUT_MS = 15_000
# Assertions that are about speed say so with their own timeout; the others only wait for the
# page, and on a loaded machine Playwright's default of 5 s is tight for a reload and reconnect.
expect.set_options(timeout=10_000)

_STACK = pytest.StashKey["PanelStack"]()


@dataclass(frozen=True)
class Persona:
    username: str
    password: str
    group: str
    extensions: str = ""


# Alice the agent answers extension 110; Sam the supervisor may hang up calls.
ALICE = Persona("alice", "alice-e2e-pass-123", "Agents", extensions="110")
SAM = Persona("sam", "sam-e2e-pass-123", "Supervisors")


@dataclass(frozen=True)
class Customer:
    name: str
    company: str
    notes: str
    phone: str  # as it was typed in, and as the panel shows it
    pbx_number: str  # as the PBX sends it


AYSE = Customer(
    name="Ayşe Yılmaz",
    company="Yılmaz Tekstil A.Ş.",
    notes="Toptan müşteri; sabahları aranmayı tercih ediyor.",
    phone="0532 123 45 67",
    pbx_number="905321234567",
)


def seed_code() -> str:
    """Python for `manage.py shell -c`: the personas and Ayşe, through the app's own services."""
    return "\n".join(
        [
            "from django.contrib.auth import get_user_model",
            "from django.contrib.auth.models import Group",
            "from calls.models import AgentProfile",
            "from customers.services import customer_create",
            *(
                f"user = get_user_model().objects.create_user({p.username!r}, "
                f"password={p.password!r}, is_staff=True)\n"
                f"user.groups.add(Group.objects.get(name={p.group!r}))\n"
                f"AgentProfile.objects.create(user=user, extensions={p.extensions!r})"
                for p in (ALICE, SAM)
            ),
            f"customer_create(name={AYSE.name!r}, company={AYSE.company!r}, "
            f"notes={AYSE.notes!r}, phones=[{AYSE.phone!r}])",
        ]
    )


class SimulatedPbx:
    """The simulator served over HTTP; `stop()` takes the PBX off the network (connections are
    refused) and `start()` brings it back on the same port with the same calls."""

    def __init__(self, password: str = PBX_PASSWORD, seed: int = 1) -> None:
        self.sim = PbxSimulator(PBX_USER, password, seed=seed, traffic=False)
        self.server: SimulatorServer | None = SimulatorServer(self.sim, port=0).start()
        self.port = self.server.port
        self.url = self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def start(self) -> None:
        if self.server is None:
            self.server = SimulatorServer(self.sim, port=self.port).start()


@pytest.fixture(scope="module")
def simulated_pbx() -> Iterator[SimulatedPbx]:
    pbx = SimulatedPbx()
    try:
        yield pbx
    finally:
        pbx.stop()


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    simulated_pbx: SimulatedPbx,
) -> Iterator[PanelStack]:
    """The web server (uvicorn), worker and beat on a database of their own and the tests' Redis
    database."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    database = int(urlsplit(settings.REDIS_URL).path.strip("/") or 0)
    assert database != 0, "tests must not use Redis database 0, the demo's"
    client.flushdb()
    panel = PanelStack(
        tmp_path_factory.mktemp("e2e"),
        simulated_pbx.url,
        client,
        poll_interval=POLL_INTERVAL,
        # A dead PBX is noticed within a poll or two, not after the default 5 s.
        api_timeout=1.0,
    )
    request.config.stash[_STACK] = panel
    try:
        with panel.serving(seed_code()):
            yield panel
    finally:
        del request.config.stash[_STACK]
        client.flushdb()  # the broker's queues and the snapshot, for the tests that follow
        client.close()


@pytest.fixture
def sim(stack: PanelStack, simulated_pbx: SimulatedPbx) -> PbxSimulator:
    """The simulator, answering, with no calls, faults or logged requests, and the panel's live
    state caught up with that (so no page starts with the previous test's calls). Whatever a
    failed test left stopped is started again."""
    if not stack.web.running:
        stack.web.start()
        stack.wait_for_web()
    simulated_pbx.start()
    simulated_pbx.sim.reset()
    stack.wait_for_channels(timeout=10)
    simulated_pbx.sim.clear_request_log()
    return simulated_pbx.sim


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"end-to-end tests need Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_for(
    request: pytest.FixtureRequest, browser: Browser, stack: PanelStack, sim: PbxSimulator
) -> Iterator[Callable[[Persona], Page]]:
    """`page_for(ALICE)`: a fresh browser context logged in through the real login form, on the
    live panel with its websocket open. Uncaught page errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_panel(persona: Persona) -> Page:
        # An English browser, as on many call-centre PCs: the panel must still speak Turkish.
        context = browser.new_context(base_url=stack.url, viewport=VIEWPORT, locale="en-US")
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{persona.username}: {error}"))
        page.goto("/")  # the panel sends an anonymous visitor to the login form
        page.fill("#id_username", persona.username)
        page.fill("#id_password", persona.password)
        # Not the first submit button on the page: the header's language switch has some too.
        page.click("main button[type=submit]")
        expect(page).to_have_url(f"{stack.url}/", timeout=PAGE_TIMEOUT_MS)
        expect(page.locator("#connection-status")).to_have_attribute(
            "data-state", "live", timeout=PAGE_TIMEOUT_MS
        )
        return page

    yield open_panel

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"\W+", "-", request.node.name)
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages):
            page.screenshot(path=ARTIFACTS / f"failed-{name}-{number}.png")
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def save_screenshot(page: Page, name: str) -> Path:
    """A screenshot for people to look at (artifacts/ is kept by CI, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=path)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"report_{report.when}", report)
    panel = item.config.stash.get(_STACK, None)
    if report.failed and panel is not None:
        # What the servers said is usually the quickest way to a CI failure's cause.
        report.sections.append(("panel processes (log tails)", panel.logs()))
    return report
