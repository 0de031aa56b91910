"""Follow-ups in real Chromium against the whole stack: Alice sets one from a ringing call's
screen-pop for Sam, due a few seconds ahead; Sam's open panel pops the reminder when it is due,
and the callbacks page lists it until it is done.

The panels check for due follow-ups every second here (TELSAM_FOLLOW_UP_CHECK_SECONDS, 30 s by
default), so the test waits on the reminder itself, not on a clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import save_screenshot
from tests.support.personas import ALICE, AYSE, SAM
from tests.support.stack import POLL_INTERVAL

pytestmark = pytest.mark.e2e

RINGING = "Çalıyor"
ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 5_000
AHEAD_SECONDS = 20  # far enough that a busy machine still posts it before it is due
REMINDER_MS = (AHEAD_SECONDS + 40) * 1000


@pytest.fixture(scope="module", autouse=True)
def quick_reminder_checks() -> Iterator[None]:
    """The module's stack reads its environment when it starts: the panels check every second."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TELSAM_FOLLOW_UP_CHECK_SECONDS", "1")
        yield


def set_due_in(page: Page, form, seconds: int) -> None:
    """Put the time `seconds` from now, in the browser's own zone, into the form's time field."""
    form.locator("input[name=due_at]").evaluate(
        """(input, seconds) => {
            const due = new Date(Date.now() + seconds * 1000);
            const local = new Date(due.getTime() - due.getTimezoneOffset() * 60000);
            input.value = local.toISOString().slice(0, 19);
        }""",
        seconds,
    )


def settled(card) -> None:
    """Wait for the card's entrance animation to end, so a screenshot shows it as people do."""
    card.evaluate("card => Promise.all(card.getAnimations().map((a) => a.finished))")


def test_a_follow_up_set_from_a_pop_reminds_its_assignee_when_due(sim, page_for):
    sam = page_for(SAM)
    alice = page_for(ALICE)

    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING)
    card = alice.locator(f'#pops .pop[data-channel="{channel}"]')
    expect(card.locator(".pop-name")).to_have_text(AYSE.name, timeout=ARRIVAL_MS)

    card.locator(".pop-follow-up summary").click()
    form = card.locator(".follow-up-form")
    assignee = form.locator("select[name=assignee]")
    # Oneself by default; Sam is among the colleagues to choose from.
    expect(assignee.locator("option:checked")).to_have_text(ALICE.username)
    assignee.select_option(label=SAM.username)
    form.locator("input[name=note]").fill("Fiyat teklifini sordu, yarın dönülecek")
    # A time already past is refused in words, and what was typed stays to be corrected.
    set_due_in(alice, form, -60)
    form.locator("button[type=submit]").click()
    result = form.locator(".follow-up-result")
    expect(result).to_have_attribute("data-kind", "error")
    expect(result).to_have_text("Geri arama zamanı ileride olmalı.")
    expect(form.locator("input[name=note]")).to_have_value("Fiyat teklifini sordu, yarın dönülecek")
    set_due_in(alice, form, AHEAD_SECONDS)
    form.locator("button[type=submit]").click()
    expect(form.locator(".follow-up-result")).to_have_attribute("data-kind", "ok")
    expect(form.locator(".follow-up-result")).to_contain_text("Geri arama kaydedildi")
    settled(card)
    save_screenshot(alice, "follow-up-form.png")

    # Not due yet: Sam has no reminder ...
    reminder = sam.locator("#pops .follow-up-reminder")
    expect(reminder).to_have_count(0)
    # ... until its time comes.
    expect(reminder).to_have_count(1, timeout=REMINDER_MS)
    expect(reminder.locator(".pop-kind")).to_have_text("Geri arama zamanı")
    expect(reminder.locator(".pop-number")).to_have_text(AYSE.phone)
    expect(reminder.locator(".pop-name")).to_have_text(AYSE.name)
    expect(reminder.locator(".pop-notes")).to_have_text("Fiyat teklifini sordu, yarın dönülecek")
    settled(reminder)
    # Sam has no pops of his own: the panel makes room for the reminder, which covers no row
    # (nor the hang-up button on it).
    hang_up = sam.locator("#calls-body tr.call-row button.hangup").first
    card, button = reminder.bounding_box(), hang_up.bounding_box()
    assert button["x"] + button["width"] <= card["x"], (card, button)
    save_screenshot(sam, "follow-up-reminder.png")

    # The callbacks page lists it, for Alice as for Sam.
    callbacks = alice.context.new_page()
    callbacks.goto("/callbacks/")
    row = callbacks.locator("#follow-ups-table .follow-up-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(AYSE.phone)
    expect(row).to_contain_text(AYSE.name)
    expect(row).to_contain_text(SAM.username)
    expect(row).to_contain_text("Fiyat teklifini sordu")
    save_screenshot(callbacks, "follow-up-callbacks.png")

    # Ayşe calls again before anyone has called her back: the new pop shows the promise made.
    again = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING)
    waiting = alice.locator(f'#pops .pop[data-channel="{again}"] .pop-open-follow-ups')
    expect(waiting).to_contain_text("Bekleyen geri aramalar", timeout=ARRIVAL_MS)
    expect(waiting.locator(".timeline-follow-up")).to_contain_text(
        [f"{SAM.username} · Fiyat teklifini sordu, yarın dönülecek"]
    )
    again_card = alice.locator(f'#pops .pop[data-channel="{again}"]')
    settled(again_card)
    save_screenshot(again_card, "follow-up-in-timeline.png")

    # Sam called back: the reminder goes, and so does the row.
    reminder.locator(".follow-up-done").click()
    expect(reminder).to_have_count(0)
    callbacks.reload()
    expect(callbacks.locator("#follow-ups-table .follow-up-row")).to_have_count(0)
    expect(callbacks.locator("#follow-ups-table")).to_contain_text("Bekleyen geri arama yok.")
