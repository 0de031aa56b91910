"""The call's note and wrap-up code in the screen-pop, in real Chromium against the whole stack:
typed while the phone rings, kept over a reload, finished on the wrap-up card once the call has
ended, and on the call's history row after the CDR sync (docs/call-work.md, "In the panel")."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support.browser import save_screenshot
from tests.support.panel_page import pop, row
from tests.support.personas import ALICE, AYSE
from tests.support.stack import POLL_INTERVAL

pytestmark = pytest.mark.e2e

IST = ZoneInfo("Europe/Istanbul")
RINGING = "Çalıyor"
TALKING = "Konuşuyor"
# Two poll intervals plus slack for the browser and a busy machine.
ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 2_000
NOTE = "İade istiyor; faturayı e-postayla bekliyor."
CODES = (
    "from calls.models import WrapUpCode, WrapUpQueue\n"
    "WrapUpCode.objects.create(name_tr='Çözüldü', name_en='Resolved', colour='#16a34a', order=1)\n"
    "WrapUpCode.objects.create(name_tr='Geri aranacak', name_en='Call back', colour='#d97706',"
    " order=2)\n"
    "WrapUpQueue.objects.create(queue='630', code_required=True)"
)


@pytest.fixture(scope="module")
def wrap_up_codes(stack) -> None:
    """Two codes, and queue 630 requires one."""
    stack.manage("shell", "-c", CODES)


def test_a_note_typed_while_it_rings_is_wrapped_up_with_a_code_and_is_on_the_history_row(
    sim, stack, page_for, wrap_up_codes
):
    page = page_for(ALICE)
    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING, calltype="Kuyruk(630)")

    card = pop(page, channel)
    note = card.locator("textarea.work-note")
    expect(card.locator(".pop-name")).to_have_text(AYSE.name, timeout=ARRIVAL_MS)
    expect(note).to_be_editable()
    expect(card.locator("select.work-code option")).to_have_text(["—", "Çözüldü", "Geri aranacak"])
    note.press_sequentially(NOTE)
    # Saved a moment after the last keystroke, without leaving the field.
    expect(card.locator(".work-status")).to_contain_text("Kaydedildi · alice")
    save_screenshot(page, "call-work-pop.png")

    page.reload()
    expect(pop(page, channel).locator("textarea.work-note")).to_have_value(NOTE, timeout=ARRIVAL_MS)
    card = pop(page, channel)

    sim.update_call(channel, callinfo=TALKING)
    expect(row(page, channel).locator(".col-state")).to_have_text(TALKING, timeout=ARRIVAL_MS)
    sim.end_call(channel, disposition="ANSWERED")

    expect(card).to_have_class(re.compile(r"\bis-wrap-up\b"), timeout=ARRIVAL_MS)
    expect(card.locator(".pop-kind")).to_have_text("Çağrı bitti")
    expect(card.locator(".pop-number")).to_have_text(AYSE.phone)
    expect(card.locator("textarea.work-note")).to_have_value(NOTE)
    save = card.locator("button.work-finish")
    expect(save).to_have_text("Kaydet")
    save.click()  # no code yet, and queue 630 requires one
    expect(card.locator(".work-status")).to_have_text(
        "Bu kuyruğun çağrıları için sonuç kodu gerekli."
    )
    expect(card).to_be_visible()

    card.locator("select.work-code").select_option(label="Çözüldü")
    expect(card.locator(".work-status")).to_contain_text("Kaydedildi · alice")
    expect(card.locator(".work-swatch")).to_be_visible()
    expect(row(page, channel)).to_have_count(0)  # the ended call's row has faded out
    save_screenshot(page, "call-work-wrap-up.png")
    save.click()
    expect(card).to_have_count(0)

    day = datetime.now(IST).date().isoformat()
    stack.manage("sync_cdr", "--from", day, "--to", day)
    page.goto(f"/history/?date_from={day}&date_to={day}")
    history_row = page.locator("#history-table tr.record-row")
    expect(history_row).to_have_count(1)
    expect(history_row.locator("td.note")).to_contain_text(NOTE)
    expect(history_row.locator("td.note")).to_contain_text("alice")
    expect(history_row.locator("td.wrap-up")).to_have_text("Çözüldü")

    # Ayşe calls again: her pop's recent calls show what was recorded on the last one.
    page.goto("/")
    again = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING)
    last_call = pop(page, again).locator(".pop-history li").first
    expect(last_call.locator(".pop-code")).to_have_text("Çözüldü", timeout=ARRIVAL_MS)
    expect(last_call.locator(".pop-call-note")).to_have_text(NOTE)
    sim.end_call(again)


def test_a_dismissed_pop_keeps_what_was_typed_and_a_wrap_up_card_left_alone_closes_itself(
    sim, page_for, wrap_up_codes
):
    page = page_for(ALICE)
    assert page.evaluate("() => window.telsamPanel.pops.options.wrapUpSeconds") == 120
    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING, calltype="Kuyruk(630)")
    card = pop(page, channel)
    expect(card.locator("textarea.work-note")).to_be_editable(timeout=ARRIVAL_MS)

    card.locator("textarea.work-note").fill("Yarın tekrar arayacak")
    card.locator("button.pop-close").click()  # at once: no time for the typing delay
    expect(card).to_have_count(0)
    page.reload()
    expect(pop(page, channel).locator("textarea.work-note")).to_have_value(
        "Yarın tekrar arayacak", timeout=ARRIVAL_MS
    )

    # TELSAM_WRAPUP_CARD_SECONDS, shortened for this page so the test need not wait two minutes.
    page.evaluate("() => { window.telsamPanel.pops.options.wrapUpSeconds = 2; }")
    sim.end_call(channel, disposition="ANSWERED")
    card = pop(page, channel)
    expect(card).to_have_class(re.compile(r"\bis-wrap-up\b"), timeout=ARRIVAL_MS)
    expect(card).to_have_count(0, timeout=10_000)
