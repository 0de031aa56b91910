"""Real Chromium on the live panel, for tests that break the servers underneath open pages.

Playwright's sync API runs one instance per thread, and the end-to-end tests keep a session-wide
one open on the main thread (tests/e2e/conftest.py), so these tests drive their own Chromium from
a thread of its own, as Playwright's documentation advises for threads. Every call into the page
runs on that thread; a test only sees plain values (the channels shown, the indicator's state),
so it can wait on them with `tests.support.waiting.wait_for` while it stops and starts servers.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS, VIEWPORT, log_in
from tests.support.personas import Persona

T = TypeVar("T")


class Chromium:
    """One Chromium, driven from its own thread."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.call(self._launch)

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` on the browser's thread and return its result (or raise)."""
        return self._thread.submit(function, *args).result()

    def _launch(self) -> None:
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )

    def open_panel(self, base_url: str, persona: Persona, *, unluckiest: bool = False) -> PanelPage:
        """A fresh browser profile logged in through the login form, on the live panel.

        An `unluckiest` page draws the longest wait its reconnection backoff allows every time
        (the panel's only use of `Math.random` is that jitter), so a bound on how soon pages come
        back holds for every page, not for the lucky draw of one run.
        """
        return PanelPage(self, self.call(self._login, base_url, persona, unluckiest))

    def _login(self, base_url: str, persona: Persona, unluckiest: bool) -> Page:
        assert self._browser is not None
        context = self._browser.new_context(base_url=base_url, viewport=VIEWPORT)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        if unluckiest:
            context.add_init_script("Math.random = () => 0.999999;")
        page = context.new_page()
        log_in(page, base_url, persona.username, persona.password)
        page.evaluate(_WATCH_PAGE)
        return page

    def close(self) -> None:
        def close() -> None:
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()

        try:
            self.call(close)
        finally:
            self._thread.shutdown()


# Kept in the page's own memory, so a reload (which would wipe it) cannot pass unnoticed: every
# value the connection indicator and the call counter take, however briefly, and uncaught errors.
_WATCH_PAGE = """() => {
  const seen = { loadedOnce: true, states: [], counts: [], errors: [] };
  window.resilience = seen;
  const note = (list, value) => {
    if (list.at(-1) !== value) list.push(value);
  };
  const box = document.getElementById("connection-status");
  note(seen.states, box.dataset.state);
  new MutationObserver((records) => {
    // Changes arrive in batches: each record holds the value before its change.
    for (const record of records.slice(1)) note(seen.states, record.oldValue);
    note(seen.states, box.dataset.state);
  }).observe(box, { attributeFilter: ["data-state"], attributeOldValue: true });
  const count = document.getElementById("call-count");
  note(seen.counts, count.textContent);
  new MutationObserver(() => note(seen.counts, count.textContent)).observe(count, {
    childList: true,
    characterData: true,
    subtree: true,
  });
  window.addEventListener("error", (event) => seen.errors.push(String(event.message)));
}"""


class PanelPage:
    """A logged-in panel in `Chromium`; each method returns what the page shows right now."""

    def __init__(self, chromium: Chromium, page: Page) -> None:
        self._chromium = chromium
        self._page = page

    def channels(self) -> set[str]:
        """The channels of the call rows on screen."""
        return set(
            self._chromium.call(
                lambda: self._page.locator("#calls-body tr.call-row").evaluate_all(
                    "rows => rows.map(row => row.dataset.channel)"
                )
            )
        )

    def customer(self, channel: str) -> str:
        """The customer column of a call's row, as the agent reads it."""
        selector = f'#calls-body tr.call-row[data-channel="{channel}"] .col-customer'
        return self._chromium.call(lambda: self._page.locator(selector).inner_text().strip())

    def state(self) -> str:
        """The connection indicator: live, reconnecting, pbx-down, …"""
        return self._chromium.call(
            lambda: self._page.locator("#connection-status").get_attribute("data-state") or ""
        )

    def awaiting_first_poll(self) -> bool:
        """Whether the page heard from a server that has not polled since it lost its state."""
        return self._chromium.call(
            lambda: self._page.evaluate("() => window.telsamPanel.connection.awaitingPoll === true")
        )

    def watch(self) -> dict[str, Any]:
        """What the page noted since `forget()` (or login): `loadedOnce` (gone after a reload), the
        indicator's `states`, the call counter's `counts`, `errors`."""
        return self._chromium.call(lambda: self._page.evaluate("() => window.resilience || {}"))

    def forget(self) -> None:
        """Start noting afresh from what the page shows now."""
        self._chromium.call(
            lambda: self._page.evaluate(
                """() => {
                  const seen = window.resilience;
                  seen.states = [seen.states.at(-1)];
                  seen.counts = [seen.counts.at(-1)];
                }"""
            )
        )

    def hang_up(self, channel: str) -> str:
        """A supervisor ends a call with the row's button; the dialog's answer."""

        def hang_up() -> str:
            self._page.locator(
                f'#calls-body tr.call-row[data-channel="{channel}"] button.hangup'
            ).click()
            self._page.locator("dialog [data-role=confirm]").click()
            result = self._page.locator("dialog [data-role=result]")
            expect(result).to_have_attribute("data-kind", "ok")
            return result.inner_text()

        return self._chromium.call(hang_up)
