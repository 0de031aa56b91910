"""A fake Telsam PBX for the demo, the tests and benchmarks: speaks the PBX's HTTP API exactly.

`PbxSimulator` (`state`) holds the state in pure Python: the strings it speaks (`vocabulary`), its
calls and CDR rows (`records`), the calls it makes by itself (`traffic`), the failures it can be
told to serve (`faults`) and its answers to API requests (`api`). `SimulatorServer` (`server`)
serves it over HTTP and `SimulatorControl` (`control`) drives a simulator running in another
process; `manage.py simulate_pbx` runs one. Imports nothing from the rest of `calls`: it stands in
for the PBX, so it must not share the panel's reading of it.
"""

from __future__ import annotations

from calls.simulator.control import (
    InvalidControlRequest,
    SimulatorControl,
    SimulatorControlError,
)
from calls.simulator.faults import FAULT_KINDS, Fault
from calls.simulator.records import RequestLogEntry, UnknownChannel
from calls.simulator.server import SimulatorServer
from calls.simulator.state import DEFAULT_EXTENSIONS, DEFAULT_QUEUES, PbxSimulator
from calls.simulator.vocabulary import (
    ANSWERED,
    BUSY,
    CALLINFO_ON_HOLD,
    CALLINFO_QUEUED,
    CALLINFO_RINGING,
    CALLINFO_TALKING,
    CALLTYPE_INCOMING,
    CALLTYPE_INTERNAL,
    CALLTYPE_OUTGOING,
    NO_ANSWER,
    queue_calltype,
)

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
