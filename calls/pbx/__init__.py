"""The Telsam PBX as the rest of the panel sees it: one client, typed results, its own errors.

Owns everything that speaks to the PBX or reads its answers: the HTTP client (`client`), the
failures and their reason codes (`errors`), the typed results (`records`), the pure parsers of
whole answers (`answers`) and of single fields (`fields`), and the rule for what can name a channel
(`channels`). Imports nothing else from `calls`; other packages import from `calls.pbx` itself.
"""

from __future__ import annotations

from calls.pbx.answers import (
    MAX_ACTIVE_CALLS,
    decode_body,
    parse_active_calls,
    parse_cdr,
    parse_hangup,
    unwrap,
)
from calls.pbx.channels import MAX_CHANNEL_CHARS, is_valid_channel, printable_channel
from calls.pbx.client import TelsamClient, client_from_settings
from calls.pbx.errors import PbxBadResponse, PbxError, PbxReason, PbxRejected, PbxUnavailable
from calls.pbx.fields import (
    MAX_CDR_ID_CHARS,
    MAX_ELAPSED_SECONDS,
    MAX_TEXT_CHARS,
    MAX_USERFIELD_CHARS,
    PBX_TIMEZONE,
    format_cdr_param,
)
from calls.pbx.records import (
    ActiveCall,
    CdrBatch,
    CdrRecord,
    Direction,
    HangupResult,
    RejectedRow,
)

__all__ = [
    "MAX_ACTIVE_CALLS",
    "MAX_CDR_ID_CHARS",
    "MAX_CHANNEL_CHARS",
    "MAX_ELAPSED_SECONDS",
    "MAX_TEXT_CHARS",
    "MAX_USERFIELD_CHARS",
    "PBX_TIMEZONE",
    "ActiveCall",
    "CdrBatch",
    "CdrRecord",
    "Direction",
    "HangupResult",
    "PbxBadResponse",
    "PbxError",
    "PbxReason",
    "PbxRejected",
    "PbxUnavailable",
    "RejectedRow",
    "TelsamClient",
    "client_from_settings",
    "decode_body",
    "format_cdr_param",
    "is_valid_channel",
    "parse_active_calls",
    "parse_cdr",
    "parse_hangup",
    "printable_channel",
    "unwrap",
]
