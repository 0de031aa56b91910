"""Real Chromium on the panel: where it is, how it is started, and the one way a test (or the
soak) logs in, through the login form like a person, with Playwright's sync or async API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.processes import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
# Page loads and logins on a busy two-core CI machine.
PAGE_TIMEOUT_MS = 15_000
# Screenshots: of failed tests, and for people to look at (kept by CI, ignored by git).
ARTIFACTS = ROOT / "artifacts"


def _login_steps(
    page: Any, base_url: str, username: str, password: str, timeout_ms: float
) -> Iterator[Any]:
    # Each step is a page call: the sync API runs it when called, the async one returns an
    # awaitable, so both logins below walk the same steps.
    yield page.goto("/")  # the panel sends an anonymous visitor to the login form
    yield page.fill("#id_username", username)
    yield page.fill("#id_password", password)
    # Not the first submit button on the page: the header's language switch has some too.
    yield page.click("main button[type=submit]")
    yield page.wait_for_url(f"{base_url}/", timeout=timeout_ms)
    yield page.wait_for_selector("#connection-status[data-state=live]", timeout=timeout_ms)


def log_in(
    page: Any, base_url: str, username: str, password: str, *, timeout_ms: float = PAGE_TIMEOUT_MS
) -> None:
    """Log in through the form (Playwright's sync API) and wait for the live panel."""
    for _ in _login_steps(page, base_url, username, password, timeout_ms):
        pass


async def log_in_async(
    page: Any, base_url: str, username: str, password: str, *, timeout_ms: float = PAGE_TIMEOUT_MS
) -> None:
    """`log_in` with Playwright's async API."""
    for step in _login_steps(page, base_url, username, password, timeout_ms):
        await step


def save_screenshot(page: Any, name: str) -> Path:
    """A screenshot for people to look at, in `ARTIFACTS`."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=path)
    return path
