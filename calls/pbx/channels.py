"""What can name a PBX channel: one rule for the calls the PBX lists and the hang-ups asked of it.

A channel is a call's identity: the panel hands it back to the PBX to end the call, so it is kept
exactly as the PBX sent it. One that would have to be altered to be stored or shown (cut, stripped,
control characters replaced) is no channel at all: its row is refused when the PBX lists it, and a
hang-up naming it is refused before anything is looked up. Real ones are short printable text
(`SIP/110-0000002a`, `SIP/trunk-sip-Trunk110-36a9b`, `Local/110@from-internal-…;1`).
"""

from __future__ import annotations

import re

# The database columns that hold a channel (the audit trail, calls awaiting their CDR row).
MAX_CHANNEL_CHARS = 200
# C0/C1 control characters (a NUL breaks PostgreSQL text, a newline forges log and audit lines)
# and lone surrogates, which JSON's \ud800 escapes produce and which no UTF-8 encoder accepts.
_UNFIT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def channel_problem(channel: str) -> str | None:
    """Why `channel` cannot name a PBX channel (a sentence for the log), or None when it can."""
    if not channel.strip():
        return "row has no channel"
    if len(channel) > MAX_CHANNEL_CHARS:
        return f"channel is longer than {MAX_CHANNEL_CHARS} characters"
    if channel != channel.strip():
        return "channel begins or ends with white space"
    if _UNFIT.search(channel):
        return "channel holds control characters"
    return None


def is_valid_channel(channel: str) -> bool:
    """Whether `channel` can name a PBX channel (see `channel_problem`)."""
    return channel_problem(channel) is None


def printable_channel(channel: str) -> str:
    """Any text given as a channel, fit to record and log: cut to the column, characters no
    channel holds shown as `?`."""
    return _UNFIT.sub("?", channel[:MAX_CHANNEL_CHARS])
