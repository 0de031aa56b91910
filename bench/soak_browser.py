"""One real Chromium page on the panel for the whole soak: logged in through the login form, its
websockets counted, its rendered table rows read at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser, Page, Playwright, WebSocket

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, log_in_async

PAGE_TIMEOUT_MS = 30_000
# The rows a person sees: a row fading out after its call ended (700 ms) is no longer a call.
_ROWS_JS = """() => [...document.querySelectorAll("#calls-body tr.call-row:not(.is-leaving)")]
  .map((row) => ({channel: row.dataset.channel,
                  callinfo: row.querySelector(".col-state").textContent.trim()}))"""


@dataclass
class BrowserStats:
    sockets_opened: int = 0
    disconnects: int = 0  # a socket that had delivered data closed
    failed_attempts: int = 0  # a socket closed before any data (the server was down)
    recoveries: int = 0  # sockets after the first that delivered data
    page_errors: list[str] = field(default_factory=list)


class PanelPage:
    """The panel in Chromium, as an agent logged in with `username` / `password` sees it."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.stats = BrowserStats()
        self.browser: Browser | None = None
        self.page: Page | None = None
        self._closing = False

    async def open(self, playwright: Playwright) -> None:
        self.browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORT, locale="en-US"
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = await context.new_page()
        self.page = page
        page.on("pageerror", lambda error: self.stats.page_errors.append(str(error)))
        page.on("websocket", self._watch)
        await log_in_async(
            page, self.base_url, self.username, self.password, timeout_ms=PAGE_TIMEOUT_MS
        )

    def _watch(self, socket: WebSocket) -> None:
        self.stats.sockets_opened += 1
        first = self.stats.sockets_opened == 1
        received = False

        def on_frame(_payload: Any) -> None:
            nonlocal received
            if not received and not first:
                self.stats.recoveries += 1
            received = True

        def on_close(_socket: WebSocket) -> None:
            if self._closing:  # closing the browser at the end is no disconnect
                return
            if received:
                self.stats.disconnects += 1
            else:
                self.stats.failed_attempts += 1

        socket.on("framereceived", on_frame)
        socket.on("close", on_close)

    async def state(self) -> str:
        """The connection indicator's state (`live`, `reconnecting`, `pbx-down`, …)."""
        assert self.page is not None
        return await self.page.get_attribute("#connection-status", "data-state") or ""

    async def rows(self) -> dict[str, str]:
        """The calls on screen: channel → the state shown."""
        assert self.page is not None
        return {row["channel"]: row["callinfo"] for row in await self.page.evaluate(_ROWS_JS)}

    async def close(self) -> None:
        self._closing = True
        if self.browser is not None:
            await self.browser.close()
            self.browser = None
