"""Fixtures for the resilience tests: Chromium driven from a thread of its own. The panel's
processes and the PBX simulator are the `stack` and `simulated_pbx` fixtures; each module starts
its own stack against the services it breaks (a private Redis server, PostgreSQL behind a proxy
the test can cut), so nothing it does reaches the other tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import CHROMIUM
from tests.support.stack import starts_processes
from tests.support.threaded_browser import Chromium


@pytest.fixture(scope="session")
@starts_processes
def chromium() -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.skip(f"these tests need Chromium at {CHROMIUM}")
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()
