"""An unknown caller added as a customer from the screen-pop, in real Chromium against the whole
stack and the simulator: the agent types the name into the card, and her table, her other
browser's pop and a colleague's panel show the customer within a poll, without a reload.

The stack lives for the module, so each test rings from a number of its own: a customer one test
adds would make the next test's caller known.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.panel_page import create_watcher, pop, row
from tests.support.personas import ALICE, SAM, Persona
from tests.support.stack import POLL_INTERVAL, PanelStack

pytestmark = pytest.mark.e2e

RINGING = "Çalıyor"
# Two poll intervals plus slack for the browser and a busy machine.
ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 8_000
ADMIN_CHANGE = re.compile(r"^/admin/customers/customer/\d+/change/$")
SCREENSHOTS = "/work/tmp"

# Sees live calls and customers, and has extension 110, but may not add customers.
VERA = Persona("vera", "vera-e2e-pass-123", None, extensions="110")


@pytest.fixture(scope="module")
def vera(stack: PanelStack) -> Persona:
    return create_watcher(stack, VERA)


def customer_cell(page: Page, channel: str) -> Locator:
    return row(page, channel).locator(".col-customer")


def form_of(page: Page, channel: str) -> Locator:
    return pop(page, channel).locator("form.add-caller-form")


def test_an_agent_adds_an_unknown_caller_and_every_open_panel_shows_the_name(sim, page_for):
    alice = page_for(ALICE)
    alice_elsewhere = page_for(ALICE)  # her second PC: a browser of its own, so a pop of its own
    sam = page_for(SAM)

    channel = sim.add_call("905559998877", "110", callinfo=RINGING)

    card = pop(alice, channel)
    expect(card).to_have_class(re.compile(r"\bis-unknown\b"), timeout=ARRIVAL_MS)
    expect(card.locator(".pop-unknown")).to_have_text("Bilinmeyen arayan")
    form = form_of(alice, channel)
    expect(form.locator(".add-caller-number input")).to_have_value("0555 999 88 77")
    expect(form.locator(".add-caller-number input")).not_to_be_editable()
    expect(form.locator("a.pop-add")).to_have_attribute(
        "href", "/admin/customers/customer/add/?phone=0555+999+88+77"
    )
    expect(pop(alice_elsewhere, channel).locator("form.add-caller-form")).to_be_visible(
        timeout=ARRIVAL_MS
    )
    expect(customer_cell(sam, channel).locator(".unknown")).to_be_visible(timeout=ARRIVAL_MS)

    form.get_by_label("Ad", exact=True).fill("Mehmet Kaya")
    form.get_by_label("Firma").fill("Kaya Lojistik")
    form.get_by_label("Notlar").fill("Kargo takibi için aradı.")
    alice.screenshot(path=f"{SCREENSHOTS}/add-caller-form.png")
    form.get_by_role("button", name="Kaydet").click()

    saved = card.locator(".add-caller-saved")
    expect(saved.locator(".pop-name")).to_have_text("Mehmet Kaya")
    expect(saved.locator(".pop-name")).to_have_attribute("href", ADMIN_CHANGE)
    expect(saved.locator(".pop-company")).to_have_text("Kaya Lojistik")
    expect(card).not_to_have_class(re.compile(r"\bis-unknown\b"))
    expect(card.locator("form")).to_have_count(0)

    # The server asked for a poll: the rows of every panel follow, no reload.
    for page in (alice, sam):
        name = customer_cell(page, channel).locator(".customer-name")
        expect(name).to_have_text("Mehmet Kaya", timeout=ARRIVAL_MS)
        expect(name).to_have_attribute("href", ADMIN_CHANGE)
        expect(customer_cell(page, channel).locator(".company")).to_have_text("Kaya Lojistik")
    # Her other browser's pop becomes the customer's card: nobody types them in twice.
    elsewhere = pop(alice_elsewhere, channel)
    expect(elsewhere.locator(".pop-name")).to_have_text("Mehmet Kaya", timeout=ARRIVAL_MS)
    expect(elsewhere.locator(".pop-notes")).to_have_text("Kargo takibi için aradı.")
    expect(elsewhere.locator(".pop-phones li")).to_have_text(["0555 999 88 77"])
    expect(elsewhere.locator("form")).to_have_count(0)
    expect(elsewhere).not_to_have_class(re.compile(r"\bis-unknown\b"))
    alice.screenshot(path=f"{SCREENSHOTS}/add-caller-saved.png")
    alice_elsewhere.screenshot(path=f"{SCREENSHOTS}/add-caller-elsewhere.png")


def test_a_refused_form_says_why_and_keeps_what_was_typed(sim, page_for):
    alice = page_for(ALICE)
    channel = sim.add_call("905551112200", "110", callinfo=RINGING)
    form = form_of(alice, channel)
    expect(form).to_be_visible(timeout=ARRIVAL_MS)

    form.get_by_label("Firma").fill("Adı Sonra Ltd.")
    form.get_by_label("Notlar").fill("Adını söylemedi.")
    form.get_by_role("button", name="Kaydet").click()

    error = form.locator(".add-caller-error")
    expect(error).to_have_text("Bu alan zorunludur.")  # the server's own message, in Turkish
    expect(form.get_by_label("Firma")).to_have_value("Adı Sonra Ltd.")
    expect(form.get_by_label("Notlar")).to_have_value("Adını söylemedi.")
    expect(form.get_by_label("Ad", exact=True)).to_be_focused()
    expect(form.get_by_role("button", name="Kaydet")).to_be_enabled()
    alice.screenshot(path=f"{SCREENSHOTS}/add-caller-refused.png")

    # Put right, the same form goes through with what was kept.
    form.get_by_label("Ad", exact=True).fill("Zeynep Ak")
    form.get_by_role("button", name="Kaydet").click()
    saved = pop(alice, channel).locator(".add-caller-saved")
    expect(saved.locator(".pop-name")).to_have_text("Zeynep Ak")
    expect(saved.locator(".pop-company")).to_have_text("Adı Sonra Ltd.")
    expect(customer_cell(alice, channel).locator(".customer-name")).to_have_text(
        "Zeynep Ak", timeout=ARRIVAL_MS
    )


def test_someone_who_may_not_add_customers_sees_only_unknown_caller(sim, page_for, vera):
    page = page_for(vera)
    channel = sim.add_call("905551112211", "110", callinfo=RINGING)

    card = pop(page, channel)
    expect(card.locator(".pop-unknown")).to_have_text("Bilinmeyen arayan", timeout=ARRIVAL_MS)
    expect(card.locator("form")).to_have_count(0)
    expect(card.locator("a")).to_have_count(0)
