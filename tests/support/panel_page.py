"""Where the panel's parts are in a browser page, for the end-to-end tests; and a persona who may
watch the live calls and nothing more."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from tests.support.personas import Persona
from tests.support.stack import PanelStack

# A call's row in the live calls table, as a CSS selector (for scripts run in the page too).
ROW = '#calls-body tr.call-row[data-channel="{channel}"]'


def row(page: Page, channel: str) -> Locator:
    """The call's row in the live calls table."""
    return page.locator(ROW.format(channel=channel))


def work_row(page: Page, channel: str) -> Locator:
    """The note editor opened under the call's row."""
    return page.locator(f'#calls-body tr.work-row[data-channel="{channel}"]')


def pop(page: Page, channel: str) -> Locator:
    """The call's screen-pop (or wrap-up) card."""
    return page.locator(f'#pops .pop[data-channel="{channel}"]')


def create_watcher(stack: PanelStack, persona: Persona) -> Persona:
    """`persona`'s account in the stack, with no role: only the permissions to see live calls and
    the customers behind them (no call work, no adding customers)."""
    stack.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Permission\n"
        "from tests.support.personas import Persona, create\n"
        f"user = create({persona!r})\n"
        "user.user_permissions.add(*Permission.objects.filter("
        "codename__in=['view_callrecord', 'view_customer']))",
    )
    return persona
