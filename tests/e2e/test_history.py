"""Call history in real Chromium: history synced from the simulator, searched by a number typed
in another format, exported as CSV; the statistics page with its chart."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support.browser import save_screenshot
from tests.support.personas import SAM

pytestmark = pytest.mark.e2e

IST = ZoneInfo("Europe/Istanbul")


def test_a_supervisor_searches_history_exports_csv_and_reads_the_statistics(sim, stack, page_for):
    start = datetime.now(IST).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    sim.add_cdr("905321234567", "110", started_at=start, duration=85.6972, queue="630")
    sim.add_cdr(
        "905321234567", "110", started_at=start + timedelta(hours=2), disposition="NO ANSWER"
    )
    sim.add_cdr("905441112233", "111", started_at=start + timedelta(hours=3), queue="631")
    day = start.date().isoformat()
    stack.manage("sync_cdr", "--from", day, "--to", day)
    page = page_for(SAM)

    page.goto(f"/history/?date_from={day}&date_to={day}")
    expect(page.locator("#total-calls")).to_have_text("3")
    page.fill("#id_number", "0532 123 45 67")  # stored as the PBX sends it: 905321234567
    page.click("form.filters button[type=submit]")
    expect(page.locator("#history-table tr.record-row")).to_have_count(2)
    expect(page.locator("#total-calls")).to_have_text("2")

    with page.expect_download() as download:
        page.click("#export-csv")
    with open(download.value.path(), encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert [row["caller"] for row in rows] == ["905321234567", "905321234567"]
    assert {row["result"] for row in rows} == {"ANSWERED", "NO ANSWER"}

    page.goto(f"/stats/?date_from={day}&date_to={day}")
    chart = page.locator("#hourly-chart")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("aria-label", "Saat başına çağrı: 10: 1, 12: 1, 13: 1")
    expect(page.locator("#heatmap")).to_be_visible()
    save_screenshot(page, "stats.png")
