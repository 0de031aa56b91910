"""A call's note from its row in the calls table, for calls without a screen-pop (an outgoing call
here), in real Chromium against the whole stack: typed under the row, kept over a reload, and when
the call ends with the note still open, finished on a wrap-up card like a pop's, nothing typed
lost (docs/call-work.md, "In the panel")."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import save_screenshot
from tests.support.panel_page import create_watcher, pop, row, work_row
from tests.support.personas import ALICE, AYSE, SAM, Persona
from tests.support.stack import POLL_INTERVAL, PanelStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

IST = ZoneInfo("Europe/Istanbul")
TALKING = "Konuşuyor"
# Two poll intervals plus slack for the browser and a busy machine.
ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 2_000
NOTE = "Teklifi e-postayla istedi."
MORE = " Cuma tekrar aranacak."

# Sees live calls and customers, but may write no call's work.
RITA = Persona("rita", "rita-e2e-pass-123", None)


@pytest.fixture(scope="module")
def rita(stack: PanelStack) -> Persona:
    return create_watcher(stack, RITA)


def saved_work(page: Page, key: str) -> dict:
    """The call's work as the server has it, asked by the page (its session, its cookies)."""
    return page.evaluate(
        "async (key) => (await fetch(`/calls/${key}/work/`,"
        " {headers: {Accept: 'application/json'}})).json()",
        key,
    )


def test_an_outgoing_calls_note_is_written_under_its_row_and_wrapped_up_when_the_call_ends(
    sim, stack, page_for
):
    page = page_for(ALICE)
    channel = sim.add_call("110", AYSE.pbx_number, callinfo=TALKING)
    button = row(page, channel).locator("button.row-note")
    expect(button).to_have_text("Not", timeout=ARRIVAL_MS)
    expect(button).to_have_attribute("aria-label", "110 numaralı arayanın çağrısına not")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#pops .pop")).to_have_count(0)  # an outgoing call pops nothing

    button.click()
    note = work_row(page, channel).locator("textarea.work-note")
    expect(note).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "true")
    note.press_sequentially(NOTE)
    expect(work_row(page, channel).locator(".work-status")).to_contain_text("Kaydedildi · alice")
    save_screenshot(page, "row-note.png")
    key = page.evaluate("(channel) => window.telsamPanel.table.calls.get(channel).key", channel)

    page.reload()
    row(page, channel).locator("button.row-note").click(timeout=ARRIVAL_MS)
    note = work_row(page, channel).locator("textarea.work-note")
    expect(note).to_have_value(NOTE)
    expect(note).to_be_focused()

    # A second's typing delay could save the rest before the call's end reaches the page; the
    # delay of this note is made long, so only the end itself can save what follows.
    page.evaluate(
        "(channel) => {"
        " window.telsamPanel.table.editors.get(channel).work.saver.delayMs = 600_000; }",
        channel,
    )
    note.press_sequentially(MORE)
    sim.end_call(channel, disposition="ANSWERED")

    card = pop(page, channel)
    expect(card).to_have_class(re.compile(r"\bis-wrap-up\b"), timeout=ARRIVAL_MS)
    expect(work_row(page, channel)).to_have_count(0)
    expect(card.locator(".pop-kind")).to_have_text("Çağrı bitti")
    expect(card.locator(".pop-number")).to_have_text("110")
    expect(card.locator(".pop-meta")).to_have_text(f"{AYSE.phone} numarasına")
    expect(card.locator("textarea.work-note")).to_have_value(NOTE + MORE)
    expect(card.locator("textarea.work-note")).to_be_focused()
    wait_until(
        lambda: saved_work(page, key)["note"] == NOTE + MORE,
        10,
        what="the half-typed note saved when the call ended",
    )
    save_screenshot(page, "row-note-wrap-up.png")

    save = card.locator("button.work-finish")
    expect(save).to_have_text("Kaydet")
    save.click()
    expect(card).to_have_count(0)
    work = saved_work(page, key)
    assert work["wrapped_up_at"] is not None
    assert work["author"] == "alice"

    day = datetime.now(IST).date().isoformat()
    stack.manage("sync_cdr", "--from", day, "--to", day)
    page.goto(f"/history/?date_from={day}&date_to={day}")
    history_row = page.locator("#history-table tr.record-row")
    expect(history_row).to_have_count(1)
    expect(history_row.locator("td.note")).to_contain_text(NOTE + MORE)


def test_only_those_who_may_write_call_work_get_the_rows_note(sim, page_for, rita):
    channel = sim.add_call(AYSE.pbx_number, "111", callinfo=TALKING)

    reader = page_for(rita)
    expect(row(reader, channel)).to_be_visible(timeout=ARRIVAL_MS)
    expect(row(reader, channel).locator("button")).to_have_count(0)

    # A supervisor has both buttons, and his note opens under the row; the narrower screen of a
    # small office PC hides two columns, and the note still spans the row.
    sam = page_for(SAM)
    sam.set_viewport_size({"width": 1024, "height": 700})
    buttons = row(sam, channel).locator("button")
    expect(buttons).to_have_text(["Not", "Sonlandır"], timeout=ARRIVAL_MS)
    buttons.first.click()
    expect(work_row(sam, channel).locator("textarea.work-note")).to_be_focused()
    save_screenshot(sam, "row-note-supervisor-narrow.png")
    work_row(sam, channel).locator("button.work-close").click()
    expect(work_row(sam, channel)).to_have_count(0)
    expect(buttons.first).to_be_focused()
    expect(buttons.first).to_have_attribute("aria-expanded", "false")
    sim.end_call(channel)
