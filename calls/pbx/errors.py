"""Every failure talking to the PBX, and its stable reason code.

An error's text is short, human-readable and free of the password (which the API carries in the
query string); `reason` is the code browsers translate.
"""

from __future__ import annotations

import enum


class PbxReason(enum.StrEnum):
    """Why the PBX could not be used, as a stable code (sent to browsers as `pbx.reason`, which
    show a translated sentence per code; the error's text is the technical detail)."""

    UNREACHABLE = "unreachable"  # refused, unknown host, no route, TLS, connection dropped
    TIMEOUT = "timeout"  # no complete answer within TELSAM_API_TIMEOUT
    HTTP_ERROR = "http_error"  # an HTTP 4xx/5xx status
    BAD_RESPONSE = "bad_response"  # HTML, invalid JSON, wrong shape, no usable rows, too large
    REJECTED = "rejected"  # `success: false` (credentials, action, domain, …)
    NOT_CONFIGURED = "not_configured"  # TELSAM_API_URL missing or not http(s)


class PbxError(Exception):
    """Base of every failure talking to the PBX. `str()` is safe to show to admins."""

    transient = False
    default_reason = PbxReason.BAD_RESPONSE
    raw: str = ""  # the PBX's answer, when it gave one we could not use

    def __init__(self, message: str, *, reason: PbxReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason


class PbxUnavailable(PbxError):
    """The PBX could not be reached or failed on its side (timeout, refused, 5xx): retry later."""

    transient = True
    default_reason = PbxReason.UNREACHABLE


class PbxBadResponse(PbxError):
    """The PBX answered something we cannot use (HTML, bad JSON, wrong shape, 4xx)."""


class PbxRejected(PbxBadResponse):
    """The PBX answered `success: false` (bad credentials, unknown action, …)."""

    default_reason = PbxReason.REJECTED
