"""The PBX simulator as the tests meet it: the API credentials the panel is given, and the
simulator served over real HTTP."""

from __future__ import annotations

from calls.simulator import PbxSimulator, SimulatorServer

PBX_USER = "panel-api"
PBX_PASSWORD = "S3ntinel&pass=w0rd/+%"  # special characters on purpose: they must be encoded


class SimulatedPbx:
    """The simulator served over HTTP; `stop()` takes the PBX off the network (connections are
    refused) and `start()` brings it back on the same port with the same calls."""

    def __init__(self, password: str = PBX_PASSWORD, seed: int = 1) -> None:
        self.sim = PbxSimulator(PBX_USER, password, seed=seed, traffic=False)
        self.server: SimulatorServer | None = SimulatorServer(self.sim, port=0).start()
        self.port = self.server.port
        self.url = self.server.url
        self.v2_url = self.server.v2_url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def start(self) -> None:
        if self.server is None:
            self.server = SimulatorServer(self.sim, port=self.port).start()
