"""The benchmark and soak protocol clients reconnect and watch for silence as the page does.

They stand in for browsers, so what they measure (recovery times, a room of pages coming back
after a restart) holds for real pages only while their constants are the page's. The page's are
read from `static/js/live-connection.js` itself, not copied here.
"""

import re
from pathlib import Path

import pytest

from bench import live_fleet, soak_client

LIVE_CONNECTION_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "live-connection.js"

# The page's constant → the name and unit the Python clients use (seconds, not milliseconds).
RECONNECT = {
    "CLOSE_UNAUTHENTICATED": ("CLOSE_UNAUTHENTICATED", 1),
    "CLOSE_FORBIDDEN": ("CLOSE_FORBIDDEN", 1),
    "BACKOFF_FIRST_MS": ("BACKOFF_FIRST_S", 1000),
    "BACKOFF_MAX_MS": ("BACKOFF_MAX_S", 1000),
}
WATCHDOG = {
    "STALE_AFTER_INTERVALS": ("STALE_AFTER_INTERVALS", 1),
    "RESYNC_ANSWER_MS": ("RESYNC_ANSWER_S", 1000),
}
# The fleet of the live-path benchmarks reconnects as the page does; only the soak client, which
# follows its sockets through long runs of faults, has the silence watchdog too.
CASES = [
    *((client, name) for client in (soak_client, live_fleet) for name in sorted(RECONNECT)),
    *((soak_client, name) for name in sorted(WATCHDOG)),
]


def page_constants() -> dict[str, float]:
    source = LIVE_CONNECTION_JS.read_text()
    found = dict(re.findall(r"^const ([A-Z_]+) = ([0-9.]+);", source, re.MULTILINE))
    return {name: float(value) for name, value in found.items()}


def test_the_page_still_defines_every_compared_constant():
    assert set(RECONNECT) | set(WATCHDOG) <= set(page_constants())


@pytest.mark.parametrize(
    ("client", "page_name"), CASES, ids=[f"{c.__name__}-{n}" for c, n in CASES]
)
def test_protocol_client_uses_the_pages_value(client, page_name):
    client_name, per_unit = {**RECONNECT, **WATCHDOG}[page_name]
    page_value = page_constants()[page_name] / per_unit
    assert getattr(client, client_name, None) == page_value, (
        f"{client.__name__}.{client_name} should be {page_value}, like the page's {page_name}"
    )
