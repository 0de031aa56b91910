"""End-to-end fixtures: real Chromium logging in through the login form, on the whole panel as
real processes (the `stack` and `sim` fixtures of tests/conftest.py).

The web server, worker and beat cannot see pytest-django's test database, so these tests never use
the `db` fixture: the stack gets a database of its own (an SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL), migrated and filled through `manage.py`.
Each test gets an empty simulator and fresh browser contexts (screen-pops are claimed once per call
in localStorage, so a shared context would hide them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from calls.simulator import PbxSimulator
from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    VIEWPORT,
    log_in,
)
from tests.support.personas import Persona
from tests.support.stack import PanelStack, starts_processes

# Assertions that are about speed say so with their own timeout; the others only wait for the
# page, and on a loaded machine Playwright's default of 5 s is tight for a reload and reconnect.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
@starts_processes
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
        log_in(page, stack.url, persona.username, persona.password)
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
