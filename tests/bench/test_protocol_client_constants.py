"""The benchmark and soak protocol client reconnects, watches for silence and applies messages as
the page does.

It stands in for browsers, so what it measures (recovery times, a room of pages coming back
after a restart) holds for real pages only while its constants and rules are the page's. The
page's are read from `static/js/live-connection.js` itself, not copied here.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import live_fleet, protocol_client, soak
from bench.protocol_client import Shown, message_action

LIVE_CONNECTION_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "live-connection.js"

# The page's constant → the name and unit the Python client uses (seconds, not milliseconds).
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
# One client for the soak and the benchmarks' fleet, with the watchdog as well as the reconnect.
CASES = [(protocol_client, name) for name in sorted(RECONNECT) + sorted(WATCHDOG)]


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


def test_the_soak_and_the_fleet_use_the_one_client():
    assert issubclass(live_fleet.FleetClient, protocol_client.LiveClient)
    assert soak.LiveClient is protocol_client.LiveClient


# --- the message rules ---------------------------------------------------------------------------

AT = "2026-12-01T09:00:10+00:00"
LATER = "2026-12-01T09:00:12+00:00"
EARLIER = "2026-12-01T09:00:08+00:00"
NONE = {"run": None, "seq": None, "at": None}
SHOWN = {"run": "r1", "seq": 5, "at": AT}


def diff(**fields):
    return {"type": "diff", "run": "r1", "added": [], "changed": [], "removed": [], **fields}


def snapshot(run, seq, at):
    return {"type": "snapshot", "run": run, "seq": seq, "at": at, "calls": []}


# (what is held, the message): every branch of the page's `messageAction`.
MESSAGES = [
    (NONE, snapshot("r1", 5, AT)),
    (SHOWN, snapshot("r2", 1, LATER)),
    (SHOWN, snapshot("r1", 9, LATER)),
    (SHOWN, snapshot("", 0, None)),
    (NONE, snapshot("", 0, None)),
    (SHOWN, diff(seq=6, at=LATER)),
    (SHOWN, diff(seq=7, at=LATER)),
    (SHOWN, diff(run="r2", seq=6, at=LATER)),
    (NONE, diff(seq=1, at=LATER)),
    (SHOWN, diff(seq=5, at=AT)),
    (SHOWN, diff(seq=4, at=EARLIER)),
    (SHOWN, diff(seq=5, at=LATER)),
    (SHOWN, diff(seq=3, at=LATER)),
    (SHOWN, {"type": "pong", "run": "r9", "seq": 99}),
]

_PAGE_ACTIONS_JS = """
import { messageAction } from %s;
const cases = JSON.parse(process.argv[1]);
console.log(JSON.stringify(cases.map(([shown, message]) => messageAction(shown, message))));
"""


def page_actions(cases):
    """The page's own `messageAction` for each case, run by Node."""
    script = _PAGE_ACTIONS_JS % json.dumps(LIVE_CONNECTION_JS.as_uri())
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's code")
def test_the_client_decides_every_message_as_the_page_does():
    page = page_actions(MESSAGES)
    client = [message_action(Shown(**shown), message) for shown, message in MESSAGES]
    assert client == page
    # Every kind of decision is among the cases.
    assert set(page) == {"snapshot", "hold", "apply", "resync", "ignore"}
