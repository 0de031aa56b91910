"""The wallboard in real Chromium against the whole stack and the simulator: calls waiting in queue
630 show with the longest wait ticking, an answer moves the figures, a threshold turns the tile
red and raises a notification, and a display link opens the board without a login until it is
revoked (docs/wallboard.md, docs/wallboard-setup.md)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import PAGE_TIMEOUT_MS, VIEWPORT, save_screenshot
from tests.support.personas import SAM
from tests.support.stack import POLL_INTERVAL

pytestmark = pytest.mark.e2e

ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 3_000
QUEUED = {"calltype": "Kuyruk(630)", "callinfo": "Kuyrukta"}
CALLERS = ("905321234567", "905339876543", "905551112233")
# Queue 630 turns red at three waiting; the board's settings are read within ten seconds.
THRESHOLD = (
    "from calls.models import WallboardQueue\n"
    "WallboardQueue.objects.create(queue='630', waiting_amber=2, waiting_red=3)"
)
# Notifications, recorded: Chromium shows none to a headless page, so the page's calls are kept.
RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, ...options }); }
  close() {}
};
"""
CHANGE_MS = 10_000 + ARRIVAL_MS


def figure(tile, role: str):
    return tile.locator(f'[data-role="{role}"]')


def test_waiting_calls_an_answer_a_red_tile_and_a_display_link_on_the_live_stack(
    sim, stack, page_for, browser: Browser
):
    stack.manage("shell", "-c", THRESHOLD)
    page = page_for(SAM)
    page.context.add_init_script(RECORD_NOTIFICATIONS)
    page.goto("/wallboard/")
    panel = page.context.new_page()  # Sam's panel, open beside the board, hears the alerts too
    panel.goto("/")
    tile = page.locator(".queue-tile", has=page.locator(".tile-title", has_text="630"))

    first, *others = [sim.add_call(number, "630", **QUEUED) for number in CALLERS[:2]]
    expect(figure(tile, "waiting")).to_have_text("2", timeout=CHANGE_MS)
    expect(tile).to_have_attribute("data-level", "amber")
    third = sim.add_call(CALLERS[2], "630", **QUEUED)
    expect(figure(tile, "waiting")).to_have_text("3", timeout=ARRIVAL_MS)
    # Past the threshold: red, in words as well, and a notification for the supervisor.
    expect(tile).to_have_attribute("data-level", "red")
    expect(tile.locator(".tile-status")).to_contain_text("Alarm")
    raised = "window.__notifications.some(n => n.title.includes('630'))"
    page.wait_for_function(raised)
    panel.wait_for_function(raised)
    # The longest wait ticks between polls, in the browser.
    waited = figure(tile, "waitingFor")
    before = waited.inner_text()
    expect(waited).not_to_have_text(before, timeout=3_000)
    save_screenshot(page, "wallboard-live.png")

    sim.update_call(first, dst="101", callinfo="Konuşuyor")
    expect(figure(tile, "waiting")).to_have_text("2", timeout=ARRIVAL_MS)
    expect(figure(tile, "talking")).to_have_text("1")
    expect(figure(tile, "answered")).to_have_text("1")
    expect(tile).to_have_attribute("data-level", "amber")
    talking = page.locator('.extension-tile[data-state="talking"]', has_text="101")
    expect(talking).to_be_visible()

    # A display link: the board on a screen with no login, numbers masked, until revoked.
    path = stack.manage("create_display_link", "Koridor").strip()
    assert re.fullmatch(r"/display/[A-Za-z0-9_-]{43}/", path), path
    screen = browser.new_context(base_url=stack.url, viewport=VIEWPORT).new_page()
    screen.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        screen.goto(path)
        board = screen.locator(".queue-tile", has=screen.locator(".tile-title", has_text="630"))
        expect(figure(board, "waiting")).to_have_text("2", timeout=ARRIVAL_MS)
        who = screen.locator('.extension-tile[data-state="talking"] .extension-who')
        expect(who).to_have_text(re.compile(r"^[•\s]+67$"))
        save_screenshot(screen, "wallboard-display-link.png")

        stack.manage(
            "shell",
            "-c",
            "from django.utils import timezone\n"
            "from calls.models import DisplayLink\n"
            "DisplayLink.objects.update(revoked_at=timezone.now())",
        )
        expect(screen.locator("body")).to_contain_text(
            "Bu ekran bağlantısı iptal edildi", timeout=10_000
        )
        screen.reload()
        expect(screen.locator("body")).to_contain_text("Not Found")
    finally:
        screen.context.close()
    for channel in (*others, third, first):
        sim.end_call(channel)
