"""Shared fixtures: a real PBX simulator over HTTP, and the personas tests speak of."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from calls.simulator import PbxSimulator, SimulatorServer
from calls.telsam import TelsamClient

PBX_USER = "panel-api"
PBX_PASSWORD = "S3ntinel&pass=w0rd/+%"  # special characters on purpose: they must be encoded


@dataclass(frozen=True)
class RunningPbx:
    sim: PbxSimulator
    url: str  # V1 base URL
    v2_url: str


@pytest.fixture
def pbx_sim() -> Iterator[RunningPbx]:
    """A quiet simulator (no generated traffic) served over real HTTP on a free port."""
    sim = PbxSimulator(PBX_USER, PBX_PASSWORD, seed=1, traffic=False)
    server = SimulatorServer(sim, host="127.0.0.1", port=0).start()
    try:
        yield RunningPbx(sim=sim, url=server.url, v2_url=server.v2_url)
    finally:
        server.stop()


@pytest.fixture
def pbx(pbx_sim: RunningPbx) -> TelsamClient:
    """A client pointed at the simulator with a short timeout (tests force timeouts)."""
    return TelsamClient(pbx_sim.url, PBX_USER, PBX_PASSWORD, timeout=0.5)


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves collected, hashed files (whitenoise's manifest); tests render templates
    # straight from the source tree instead of running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
