"""Who is on the outside of a call, and so its direction: one rule for live calls and history.

The PBX's live answer (`activecalls`) names no direction, only the caller (`src`) and the callee
(`dst`), so the direction is read from them: a caller with a phone number is outside (inbound),
else a callee with one (outbound); only extension to extension is internal. The call history
reads its rows with the same rule rather than trusting the CDR's `calltype`: a call shown inbound
while it rang would otherwise be filed as internal, or as unknown when the PBX leaves the type
out, and drop out of the customer's timeline and the callbacks list.
"""

from __future__ import annotations

from calls.pbx.records import Direction
from customers.phones import from_pbx, is_extension

# The field that holds the agent's side of a call, by direction: the extension (or queue) that
# rang or dialled, the other side from `outside_party`. Data, so SQL can use it (the roll-up).
EXTENSION_FIELD = {
    Direction.IN: "dst",
    Direction.OUT: "src",
    Direction.INTERNAL: "dst",
    Direction.UNKNOWN: "dst",
}


def direction_of(src: str, dst: str) -> Direction:
    """Who is outside: a caller with a phone number is inbound, a callee with one outbound.

    A caller that is neither a number nor an extension (withheld: empty, `anonymous`) is outside
    too; only extension to extension is internal.
    """
    if from_pbx(src) or not is_extension(src):
        return Direction.IN
    if from_pbx(dst):
        return Direction.OUT
    return Direction.INTERNAL


def outside_party(direction: Direction, src: str, dst: str) -> str | None:
    """The outside party as the PBX wrote it (the caller inbound, the callee outbound), or None
    for a call between extensions."""
    if direction is Direction.IN:
        return src
    if direction is Direction.OUT:
        return dst
    return None


def outside_number(src: str, dst: str) -> str:
    """The outside party of a call in E.164, or "" when it has none a customer could own
    (extension to extension, a withheld caller)."""
    return from_pbx(outside_party(direction_of(src, dst), src, dst) or "") or ""
