"""The wallboard in real Chromium, drawn from a message injected as the server would send it
(`window.telsamWallboard.show`, the page's test hook): what the tiles say, and screenshots of
the board in the site's frame and as a TV in both themes, in `artifacts/` for people to look at.

The figures are the fixture the unit tests use (tests/js/wallboard-message.json), moved to now,
with a room full of extensions added.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import save_screenshot
from tests.support.personas import SAM

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "js" / "wallboard-message.json"
TV_VIEWPORT = {"width": 1920, "height": 1080}
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT")


def moved_to_now(value: Any, by: timedelta) -> Any:
    """The fixture with every time in it moved by `by`, so its clocks tick from now."""
    if isinstance(value, dict):
        return {key: moved_to_now(item, by) for key, item in value.items()}
    if isinstance(value, list):
        return [moved_to_now(item, by) for item in value]
    if isinstance(value, str) and _ISO.match(value):
        return (datetime.fromisoformat(value) + by).isoformat()
    return value


def board_message(*, extensions: int = 40, stale: bool = False) -> dict[str, Any]:
    message = json.loads(FIXTURE.read_text())
    now = datetime.now().astimezone()
    message = moved_to_now(message, now - datetime.fromisoformat(message["at"]))
    states = ["talking", "free", "free", "ringing", "talking", "dialling", "free", "talking"]
    for number in range(120, 120 + extensions - len(message["extensions"])):
        state = states[number % len(states)]
        message["extensions"].append(
            {
                "extension": str(number),
                "name": f"Temsilci {number}",
                "state": state,
                "since": (now - timedelta(seconds=37 * (number % 17) + 5)).isoformat(),
                "party_display": None if state == "free" else f"0532 {number} 45 67",
                "customer": "Yılmaz Tekstil" if state == "talking" and number % 3 else None,
                "queue": "630",
                "answered": number % 13,
                "talk_seconds": 95 * (number % 29),
            }
        )
    if stale:
        message |= {
            "stale": True,
            "pbx_ok": False,
            "last_ok_at": (now - timedelta(minutes=2)).isoformat(),
        }
    return message


def show(page: Page, message: dict[str, Any]) -> None:
    # The server's wallboard socket is not part of this test: stop it, then feed the page.
    page.evaluate(
        "(message) => { telsamWallboard.connection.stop(); telsamWallboard.show(message); }",
        message,
    )


def open_board(page: Page, query: str = "", *, color_scheme: str = "light") -> None:
    page.emulate_media(color_scheme=color_scheme)
    page.goto(f"/wallboard/{query}")
    expect(page.locator("#wallboard")).to_be_visible()


def test_the_board_in_the_site_frame(page_for):
    page = page_for(SAM)
    open_board(page)
    show(page, board_message())
    sales = page.locator(".queue-tile", has_text="Satış")
    expect(sales).to_have_attribute("data-level", "red")
    alarm = "Alarm · Bekleyen ≥ 3 · En uzun bekleme ≥ 0:30"  # in words, not colour alone
    expect(sales.locator(".tile-status")).to_have_text(alarm)
    expect(page.locator(".queue-tile.is-total .tile-title")).to_have_text("Tüm kuyruklar")
    expect(page.locator(".queue-tile", has_text="Kuyruk 632")).to_have_attribute("data-level", "ok")
    talking = page.locator('.extension-tile[data-state="talking"]', has_text="Alice Demir")
    expect(talking.locator(".extension-who")).to_have_text("Ayşe Yılmaz")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "live")
    expect(page.locator("nav a[href='/wallboard/']")).to_be_visible()
    save_screenshot(page, "wallboard-normal.png")


def test_the_longest_wait_ticks_between_two_messages(page_for):
    page = page_for(SAM)
    open_board(page)
    show(page, board_message())
    waiting_for = page.locator(".queue-tile", has_text="Satış").locator('[data-role="waitingFor"]')
    first = waiting_for.text_content()
    expect(waiting_for).not_to_have_text(first or "", timeout=3_000)


def test_the_tv_board_in_the_light_theme(page_for):
    page = page_for(SAM)
    page.set_viewport_size(TV_VIEWPORT)
    open_board(page, "?tv=1&theme=light", color_scheme="dark")
    show(page, board_message(extensions=60))
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.locator("nav")).to_have_count(0)
    save_screenshot(page, "wallboard-tv-light.png")


def test_the_tv_board_follows_the_screens_dark_preference(page_for):
    page = page_for(SAM)
    page.set_viewport_size(TV_VIEWPORT)
    open_board(page, "?tv=1", color_scheme="dark")
    show(page, board_message(extensions=60))
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    save_screenshot(page, "wallboard-tv-dark.png")


def test_a_stale_tv_board_is_greyed_and_says_since_when(page_for):
    page = page_for(SAM)
    page.set_viewport_size(TV_VIEWPORT)
    open_board(page, "?tv=1&theme=dark")
    show(page, board_message(stale=True))
    expect(page.locator("#wallboard")).to_have_attribute("data-stale", "true")
    expect(page.locator("#wallboard-stale")).to_have_text(
        re.compile(r"^PBX yanıt vermiyor · son veri \d\d:\d\d \(2 dk önce\)$")
    )
    save_screenshot(page, "wallboard-tv-stale.png")


def test_five_hundred_extensions_fit_on_a_tv(page_for):
    page = page_for(SAM)
    page.set_viewport_size(TV_VIEWPORT)
    open_board(page, "?tv=1&theme=dark")
    show(page, board_message(extensions=500))
    expect(page.locator(".extension-tile")).to_have_count(500)
    expect(page.locator("#extension-tiles")).to_have_attribute("data-density", "tiny")
    save_screenshot(page, "wallboard-tv-500.png")
