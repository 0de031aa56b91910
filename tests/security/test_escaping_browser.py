"""Markup in a customer's name and notes, in real Chromium against the whole stack: the live row
and the screen-pop (drawn by the page's JavaScript from websocket and caller-card data) and the
admin's customer page show it as text; no element is created, no dialog opens, and the Content
Security Policy is never even tested, let alone violated. (Server-rendered pages and exports:
tests/security/test_escaping.py.)

Playwright's sync API allows one instance per thread and the end-to-end tests keep theirs open
for the whole session, so this test drives its Chromium from a thread of its own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS, VIEWPORT, log_in
from tests.support.personas import ALICE
from tests.support.stack import POLL_INTERVAL

pytestmark = pytest.mark.e2e

NAME = "<img src=x onerror=alert(1)>"
NOTES = "<script>alert('notes')</script><b onmouseover=alert(2)>bold</b>"
COMPANY = '"><svg onload=alert(3)>'
PHONE, PBX_NUMBER = "0544 111 22 33", "905441112233"
ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 3_000


def planted_elements(page: Page) -> list[str]:
    """Elements the payloads would create if they were parsed as markup."""
    return page.evaluate(
        """() => [...document.querySelectorAll("img[src='x'], svg[onload], b[onmouseover], script")]
             .filter((e) => e.tagName !== "SCRIPT" || e.textContent.includes("alert"))
             .map((e) => e.outerHTML)"""
    )


def watch_the_panel(base_url: str, add_call) -> dict[str, list[str]]:
    """Alice's panel, from the login form: a call from the customer rings her extension."""
    seen: dict[str, list[str]] = {"dialogs": [], "refusals": [], "planted": []}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(base_url=base_url, viewport=VIEWPORT)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
        page.on(
            "console",
            lambda message: (
                seen["refusals"].append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        log_in(page, base_url, ALICE.username, ALICE.password)

        channel = add_call()

        row = page.locator(f'#calls-body tr.call-row[data-channel="{channel}"]')
        expect(row.locator(".col-customer .customer-name")).to_have_text(NAME, timeout=ARRIVAL_MS)
        card = page.locator(f'#pops .pop[data-channel="{channel}"]')
        expect(card.locator(".pop-name")).to_have_text(NAME, timeout=ARRIVAL_MS)
        expect(card.locator(".pop-company")).to_have_text(COMPANY)
        expect(card.locator(".pop-notes")).to_have_text(NOTES)
        card.locator(".pop-notes").hover()  # would fire onmouseover, were it an element
        seen["planted"] += planted_elements(page)

        # The customer's page in the admin, opened from the row's link.
        row.locator(".col-customer .customer-name").click()
        expect(page.locator("#id_name")).to_have_value(NAME)
        expect(page.locator("#id_notes")).to_have_value(NOTES)
        expect(page.locator("#customer-timeline")).to_be_attached()
        seen["planted"] += planted_elements(page)
        chromium.close()
    return seen


def test_a_customer_named_in_markup_is_shown_as_text_in_the_row_the_pop_and_the_admin(stack, sim):
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    stack.manage(
        "shell",
        "-c",
        "from customers.services import customer_create\n"
        f"customer_create(name={NAME!r}, company={COMPANY!r}, notes={NOTES!r}, phones=[{PHONE!r}])",
    )
    with ThreadPoolExecutor(max_workers=1) as thread:
        seen = thread.submit(
            watch_the_panel, stack.url, lambda: sim.add_call(PBX_NUMBER, "110", callinfo="Çalıyor")
        ).result()

    assert seen == {"dialogs": [], "refusals": [], "planted": []}
