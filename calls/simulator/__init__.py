"""A fake Telsam PBX for the demo, the tests and benchmarks: speaks the PBX's HTTP API exactly.

`PbxSimulator` holds the state (pure Python), `SimulatorServer` serves it over HTTP and
`SimulatorControl` drives a simulator running in another process; `manage.py simulate_pbx` runs one.
"""

from __future__ import annotations

from calls.simulator.control import (
    InvalidControlRequest,
    SimulatorControl,
    SimulatorControlError,
)
from calls.simulator.engine import (
    ANSWERED,
    BUSY,
    CALLINFO_ON_HOLD,
    CALLINFO_QUEUED,
    CALLINFO_RINGING,
    CALLINFO_TALKING,
    CALLTYPE_INCOMING,
    CALLTYPE_INTERNAL,
    CALLTYPE_OUTGOING,
    DEFAULT_EXTENSIONS,
    DEFAULT_QUEUES,
    FAULT_KINDS,
    NO_ANSWER,
    Fault,
    PbxSimulator,
    RequestLogEntry,
    UnknownChannel,
    queue_calltype,
)
from calls.simulator.server import SimulatorServer

__all__ = [
    "ANSWERED",
    "BUSY",
    "CALLINFO_ON_HOLD",
    "CALLINFO_QUEUED",
    "CALLINFO_RINGING",
    "CALLINFO_TALKING",
    "CALLTYPE_INCOMING",
    "CALLTYPE_INTERNAL",
    "CALLTYPE_OUTGOING",
    "DEFAULT_EXTENSIONS",
    "DEFAULT_QUEUES",
    "FAULT_KINDS",
    "NO_ANSWER",
    "Fault",
    "InvalidControlRequest",
    "PbxSimulator",
    "RequestLogEntry",
    "SimulatorControl",
    "SimulatorControlError",
    "SimulatorServer",
    "UnknownChannel",
    "queue_calltype",
]
