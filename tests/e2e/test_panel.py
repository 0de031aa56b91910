"""The live panel in real Chromium against the whole stack: the web server, Celery worker and
beat, Redis, and the PBX simulator, which the tests drive directly (see conftest.py).

Calls reach a page within two poll intervals: the next poll sees them, the diff goes out at once.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import save_screenshot
from tests.support.panel_page import ROW, pop, row
from tests.support.personas import ALICE, AYSE, SAM, Persona
from tests.support.stack import POLL_INTERVAL

pytestmark = pytest.mark.e2e

RINGING = "Çalıyor"
TALKING = "Konuşuyor"
# Two poll intervals plus slack for the browser and a busy machine.
ARRIVAL_MS = int(2 * POLL_INTERVAL * 1000) + 2_000
# A reconnect waits out its backoff (up to 5 s, with jitter) and a restarted web server.
RECONNECT_MS = 25_000
UNKNOWN_NUMBER = "905421112233"
UNKNOWN_DISPLAY = "0542 111 22 33"


def status(page: Page) -> Locator:
    return page.locator("#connection-status")


def seconds(duration: str) -> int:
    """A duration as the table shows it, in seconds: "1:05" is 65, "1:02:03" is 3723."""
    total = 0
    for part in duration.strip().split(":"):
        total = total * 60 + int(part)
    return total


def switch_to_english(page: Page) -> None:
    page.click("button[name=language][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(status(page)).to_have_attribute("data-state", "live")


def record_states(page: Page) -> None:
    """Keep every value the connection indicator takes, however briefly, in `window.states`."""
    page.evaluate(
        """() => {
          const box = document.getElementById("connection-status");
          window.states = [box.dataset.state];
          new MutationObserver((records) => {
            // Changes arrive in batches: each record holds the value before its change.
            const values = [...records.slice(1).map((r) => r.oldValue), box.dataset.state];
            for (const value of values) {
              if (window.states.at(-1) !== value) window.states.push(value);
            }
          }).observe(box, { attributeFilter: ["data-state"], attributeOldValue: true });
        }"""
    )


def recorded_states(page: Page) -> list[str]:
    return page.evaluate("() => window.states")


def test_an_agent_sees_a_known_caller_ring_with_a_screen_pop_and_a_ticking_clock(sim, page_for):
    page = page_for(ALICE)

    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING, calltype="Kuyruk(630)")

    call = row(page, channel)
    expect(call).to_be_visible(timeout=ARRIVAL_MS)
    card = pop(page, channel)
    expect(card.locator(".pop-name")).to_have_text(AYSE.name, timeout=ARRIVAL_MS)
    expect(call.locator(".col-caller .number")).to_have_text(AYSE.phone)
    expect(call.locator(".col-customer .customer-name")).to_have_text(AYSE.name)
    expect(call.locator(".col-customer .customer-name")).to_have_attribute(
        "href", re.compile(r"^/admin/customers/customer/\d+/change/$")
    )
    expect(card.locator(".pop-company")).to_have_text(AYSE.company)
    expect(card.locator(".pop-notes")).to_have_text(AYSE.notes)
    expect(card.locator(".pop-phones li")).to_have_text([AYSE.phone])
    expect(page.locator("#call-count")).to_have_text("1")
    expect(page.locator("#calls-empty")).to_be_hidden()

    duration = call.locator(".col-duration")
    expect(duration).to_have_text(re.compile(r"^\d+:\d\d$"))
    first = seconds(duration.inner_text())
    # The clock ticks in the page, between polls that never mention the duration.
    page.wait_for_function(
        """([selector, least]) => {
          const [m, s] = document.querySelector(selector).textContent.split(":").map(Number);
          return m * 60 + s >= least;
        }""",
        arg=[f"{ROW.format(channel=channel)} .col-duration", first + 2],
        timeout=4_000,
    )
    expect(card.locator(".pop-name")).to_be_visible()
    save_screenshot(page, "panel-agent-screen-pop.png")


def test_an_unknown_caller_gets_a_card_whose_link_prefills_the_number_in_the_add_form(
    sim, page_for
):
    page = page_for(ALICE)

    channel = sim.add_call(UNKNOWN_NUMBER, "110", callinfo=RINGING)

    card = page.locator(f'#pops .pop.is-unknown[data-channel="{channel}"]')
    expect(card).to_be_visible(timeout=ARRIVAL_MS)
    expect(row(page, channel).locator(".col-customer .unknown")).to_be_visible()
    add = card.locator("a.pop-add")
    expect(add).to_have_attribute(
        "href", f"/admin/customers/customer/add/?{urlencode({'phone': UNKNOWN_DISPLAY})}"
    )
    with page.context.expect_page() as opened:
        add.click()
    form = opened.value
    expect(form.locator("#id_phones-0-number")).to_have_value(UNKNOWN_DISPLAY)


def test_a_supervisor_hangs_up_a_call_and_it_leaves_the_table(sim, page_for):
    page = page_for(SAM)

    ayse = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING, calltype="Kuyruk(630)")
    talking = sim.add_call(UNKNOWN_NUMBER, "111", callinfo=TALKING, elapsed=95)
    outgoing = sim.add_call("104", "902121234567", callinfo=RINGING, elapsed=4)

    expect(page.locator("#call-count")).to_have_text("3", timeout=ARRIVAL_MS)
    for channel in (ayse, talking, outgoing):
        expect(row(page, channel).locator("button.hangup")).to_be_enabled()
    # Let the arrival highlight fade, for a screenshot people can read.
    expect(page.locator("#calls-body tr.is-new")).to_have_count(0)
    save_screenshot(page, "panel-supervisor.png")

    row(page, ayse).locator("button.hangup").click()
    dialog = page.locator("dialog#hangup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-role=question]")).to_contain_text(AYSE.name)
    expect(dialog.locator("[data-role=question]")).to_contain_text(AYSE.phone)
    page.click("#hangup-dialog [data-role=confirm]")

    expect(dialog.locator("[data-role=result]")).to_have_attribute("data-kind", "ok")
    hangups = [e.params["channel"] for e in sim.request_log() if e.action == "hangupcall"]
    assert hangups == [ayse]
    expect(row(page, ayse)).to_have_count(0, timeout=ARRIVAL_MS)
    expect(page.locator("#call-count")).to_have_text("2")
    expect(row(page, talking)).to_be_visible()
    expect(row(page, outgoing)).to_be_visible()


def test_an_agent_cannot_hang_up(sim, page_for):
    page = page_for(ALICE)

    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)

    expect(row(page, channel)).to_be_visible(timeout=ARRIVAL_MS)
    expect(page.locator("button.hangup")).to_have_count(0)
    expect(page.locator("#hangup-dialog")).to_have_count(0)
    # Nor does a hand-made request get through to the PBX.
    answer = page.evaluate(
        """async (channel) => {
          const body = new FormData();
          body.append("channel", channel);
          const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
          const response = await fetch("/calls/hangup/", {
            method: "POST", body, headers: { "X-CSRFToken": token },
          });
          return response.status;
        }""",
        channel,
    )
    assert answer == 403
    assert not [e for e in sim.request_log() if e.action == "hangupcall"]
    expect(row(page, channel)).to_be_visible()


def test_a_logout_darkens_only_its_own_browser_and_a_removed_role_stops_the_wallboard(
    sim, stack, page_for
):
    wally = Persona("wally", "wally-e2e-pass-123", "Agents")
    give_role = (
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Group\n"
        f"user = get_user_model().objects.create_user({wally.username!r}, "
        f"password={wally.password!r})\n"
        "user.groups.add(Group.objects.get(name='Agents'))"
    )
    stack.manage("shell", "-c", give_role)
    office, wallboard = page_for(wally), page_for(wally)
    record_states(wallboard)

    office.click("form[action='/accounts/logout/'] button")
    expect(office).to_have_url(re.compile(r"/accounts/login/"))
    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)
    expect(row(wallboard, channel)).to_be_visible(timeout=ARRIVAL_MS)

    stack.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.get(username={wally.username!r}).groups.clear()",
    )
    expect(status(wallboard)).to_have_attribute("data-state", "forbidden", timeout=10_000)
    expect(status(wallboard)).to_contain_text("canlı çağrıları gösteren bir rolü yok")
    expect(row(wallboard, channel)).to_have_count(0)
    # Given up for good: no socket, no reconnection planned, never "reconnecting".
    connection = "window.telsamPanel.connection"
    assert wallboard.evaluate(f"() => {connection}.stopped && {connection}.socket === null")
    assert recorded_states(wallboard) == ["live", "forbidden"]


def test_the_indicator_says_when_the_pbx_is_down_and_the_rows_catch_up_when_it_is_back(
    sim, simulated_pbx, page_for
):
    page = page_for(ALICE)
    switch_to_english(page)  # the words checked here are the English ones
    stays = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)
    ends = sim.add_call(UNKNOWN_NUMBER, "111", callinfo=TALKING)
    expect(page.locator("#call-count")).to_have_text("2", timeout=ARRIVAL_MS)

    simulated_pbx.stop()

    expect(status(page)).to_have_attribute("data-state", "pbx-down", timeout=ARRIVAL_MS)
    expect(status(page)).to_contain_text("PBX not answering")
    # Why, in words (pbx.reason translated), then the technical detail (pbx.error).
    detail = status(page).locator("[data-role=detail]")
    expect(detail).to_contain_text("The PBX cannot be reached")
    expect(detail).to_contain_text("connection refused")
    # The last known calls stay on screen while the PBX cannot say otherwise.
    expect(row(page, stays)).to_be_visible()
    expect(row(page, ends)).to_be_visible()

    sim.end_call(ends)
    arrives = sim.add_call("902161112233", "110", callinfo=RINGING)
    simulated_pbx.start()

    expect(status(page)).to_have_attribute("data-state", "live", timeout=ARRIVAL_MS)
    expect(status(page)).to_contain_text("Live")
    expect(row(page, arrives)).to_be_visible(timeout=ARRIVAL_MS)
    expect(row(page, ends)).to_have_count(0)
    expect(row(page, stays)).to_be_visible()
    expect(page.locator("#call-count")).to_have_text("2")


def test_a_dropped_websocket_reconnects_by_itself_and_gets_pushes_again(sim, page_for):
    page = page_for(ALICE)
    record_states(page)

    page.evaluate("() => window.telsamPanel.connection.drop()")

    expect(status(page)).to_have_attribute("data-state", "live", timeout=RECONNECT_MS)
    # The recorder hears of the last change a moment after the attribute shows it (CI saw it lag).
    page.wait_for_function("() => window.states.at(-1) === 'live'", timeout=5_000)
    assert recorded_states(page) == ["live", "reconnecting", "live"]
    # The new socket is back in the broadcast group: a new call arrives as a push.
    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)
    expect(row(page, channel)).to_be_visible(timeout=ARRIVAL_MS)


def test_a_page_that_lost_its_websocket_catches_up_with_what_it_missed(sim, stack, page_for):
    page = page_for(ALICE)
    before = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)
    expect(row(page, before)).to_be_visible(timeout=ARRIVAL_MS)
    record_states(page)

    # Offline, the reconnect attempts fail, so the page is certainly away while the calls change
    # and misses the diffs that say so.
    page.context.set_offline(True)
    page.evaluate("() => window.telsamPanel.connection.drop()")
    expect(status(page)).to_have_attribute("data-state", "reconnecting")
    sim.end_call(before)
    during = sim.add_call(UNKNOWN_NUMBER, "110", callinfo=TALKING)
    stack.wait_for_channels(during)
    expect(row(page, before)).to_be_visible()
    page.context.set_offline(False)

    expect(status(page)).to_have_attribute("data-state", "live", timeout=RECONNECT_MS)
    expect(row(page, during)).to_be_visible()
    expect(row(page, before)).to_have_count(0)
    expect(page.locator("#call-count")).to_have_text("1")
    states = recorded_states(page)
    # Back online the page reconnects at once, which it labels "connecting".
    assert states[:2] == ["live", "reconnecting"], states
    assert states[-1] == "live", states
    assert set(states) <= {"live", "reconnecting", "connecting"}, states


def test_the_page_reconnects_and_catches_up_after_the_web_server_restarts(sim, stack, page_for):
    page = page_for(ALICE)
    before = sim.add_call(AYSE.pbx_number, "110", callinfo=TALKING)
    expect(row(page, before)).to_be_visible(timeout=ARRIVAL_MS)
    record_states(page)

    stack.web.stop()
    expect(status(page)).to_have_attribute("data-state", "reconnecting")
    sim.end_call(before)
    during = sim.add_call(UNKNOWN_NUMBER, "110", callinfo=TALKING)
    stack.wait_for_channels(during)  # the poller carries on without the web server
    stack.web.start()
    stack.wait_for_web()

    expect(status(page)).to_have_attribute("data-state", "live", timeout=RECONNECT_MS)
    expect(row(page, during)).to_be_visible()
    expect(row(page, before)).to_have_count(0)
    expect(page.locator("#call-count")).to_have_text("1")
    assert recorded_states(page) == ["live", "reconnecting", "live"]


def test_the_panel_speaks_turkish_by_default_and_english_on_request(sim, page_for):
    page = page_for(ALICE)
    channel = sim.add_call(UNKNOWN_NUMBER, "111", callinfo=TALKING)

    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("#calls-title")).to_contain_text("Aktif çağrılar")
    unknown = row(page, channel).locator(".col-customer .unknown")
    expect(unknown).to_have_text("Bilinmeyen arayan", timeout=ARRIVAL_MS)

    switch_to_english(page)

    expect(page.locator("#calls-title")).to_contain_text("Active calls")
    expect(row(page, channel).locator(".col-customer .unknown")).to_have_text("Unknown caller")


def test_an_agent_with_two_tabs_gets_each_screen_pop_once(sim, page_for):
    first = page_for(ALICE)
    second = first.context.new_page()  # same browser profile, as a second tab
    second.goto("/")
    expect(status(second)).to_have_attribute("data-state", "live")

    channel = sim.add_call(AYSE.pbx_number, "110", callinfo=RINGING)

    expect(row(first, channel)).to_be_visible(timeout=ARRIVAL_MS)
    expect(row(second, channel)).to_be_visible(timeout=ARRIVAL_MS)
    cards = [pop(first, channel), pop(second, channel)]

    def shown() -> int:
        return sum(card.count() for card in cards)

    # One of the two tabs shows the card (the other finds it claimed) ...
    for _ in range(ARRIVAL_MS // 100):
        if shown():
            break
        second.wait_for_timeout(100)
    assert shown() == 1
    # ... and over the next polls the other never adds its own.
    for _ in range(int(3 * POLL_INTERVAL * 10)):
        second.wait_for_timeout(100)
        assert shown() == 1
