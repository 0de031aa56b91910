"""Fixtures for the resilience tests: the panel's real processes, a PBX simulator, Chromium.

Each module starts its own stack against the services it breaks (a private Redis server,
PostgreSQL behind a proxy the test can cut), so nothing it does reaches the other tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import CHROMIUM, SimulatedPbx
from tests.resilience.browser import Chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.skip(f"these tests need Chromium at {CHROMIUM}")
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def simulated_pbx() -> Iterator[SimulatedPbx]:
    pbx = SimulatedPbx()
    try:
        yield pbx
    finally:
        pbx.stop()
