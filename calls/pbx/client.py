"""The only module that speaks HTTP to the Telsam PBX (as we understand it: docs/telsam-api.md).

Every failure becomes a `PbxError` whose message is short, human-readable and free of the password,
which the API insists on carrying in the query string. For that reason no exception from
`requests` is ever chained to ours (its text contains the URL).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

import requests
import urllib3

from calls.pbx.answers import decode_body, parse_active_calls, parse_cdr, parse_hangup
from calls.pbx.errors import PbxBadResponse, PbxError, PbxReason, PbxUnavailable
from calls.pbx.fields import format_cdr_param
from calls.pbx.records import ActiveCall, CdrBatch, HangupResult
from telsam_panel.redact import redact

# Thousands of calls are a few hundred kB; anything near this is not an activecalls answer.
MAX_RESPONSE_BYTES = 20_000_000


class TelsamClient:
    """A thin client over the PBX's GET API.

    `base_url` is the full base: V1 `http://host/` or V2 `http://host/api/old/get`; the query string
    is appended as is.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url
        self.username = username
        self._password = password
        # Connecting should be quick on a LAN or the internet; the answer may take longer.
        self.timeout = (min(3.05, timeout), timeout)
        self._session = session or requests.Session()
        self._where = urlsplit(base_url).netloc or base_url

    def __repr__(self) -> str:
        return f"<TelsamClient {self._where} user={self.username!r}>"

    def active_calls(self) -> list[ActiveCall]:
        """All calls in progress (see `parse_active_calls`)."""
        return parse_active_calls(self._request("activecalls"))

    def hangup(self, channel: str) -> HangupResult:
        """Ask the PBX to end the call on `channel` (sent URL-encoded)."""
        return parse_hangup(self._request("hangupcall", {"channel": channel}))

    def cdr(self, start: datetime, end: datetime, number: str = "") -> CdrBatch:
        """Call detail records between two aware datetimes (minute precision, Istanbul time)."""
        params = {
            "date1": format_cdr_param(start),
            "date2": format_cdr_param(end),
            "number": number,
            "uf": "yes",
        }
        return parse_cdr(self._request("cdr", params))

    # -- plumbing --

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._password,)

    def _request(self, action: str, params: Mapping[str, str] | None = None) -> str:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise PbxBadResponse(
                "The PBX URL (TELSAM_API_URL) is not set or not an http(s) URL",
                reason=PbxReason.NOT_CONFIGURED,
            )
        query = {"username": self.username, "password": self._password, "action": action}
        query.update(params or {})
        # requests' read timeout applies per socket read: a PBX trickling its answer would never
        # time out. The whole exchange gets one deadline, checked between chunks.
        deadline = time.monotonic() + self.timeout[1]
        # Build our own exception outside the `except` blocks so that nothing from requests (whose
        # messages quote the URL, password included) is chained to it as __context__.
        failure: PbxError | None = None
        try:
            with self._session.get(
                self.base_url, params=query, timeout=self.timeout, stream=True
            ) as response:
                status, encoding = response.status_code, response.encoding
                body = self._read_body(response, deadline) if status < 400 else b""
        except requests.Timeout:
            failure = self._too_slow()
        except requests.ConnectionError as exc:
            # A read timeout while streaming the body arrives as a ConnectionError.
            timed_out = "timed out" in str(exc).lower()
            failure = (
                self._too_slow()
                if timed_out
                else PbxUnavailable(_describe_connection_error(exc, self._where))
            )
        except requests.RequestException as exc:
            # InvalidURL and friends: a malformed TELSAM_API_URL; the rest (too many redirects,
            # an answer cut off mid-body) is an answer we cannot use.
            bad_url = isinstance(
                exc, requests.exceptions.InvalidURL | requests.exceptions.URLRequired
            )
            failure = PbxBadResponse(
                f"Request to the PBX at {self._where} failed ({type(exc).__name__})",
                reason=PbxReason.NOT_CONFIGURED if bad_url else PbxReason.BAD_RESPONSE,
            )
        except PbxError as exc:
            failure = exc
        if failure is not None:
            raise failure
        if status >= 500:
            raise PbxUnavailable(
                f"PBX at {self._where} answered HTTP {status}", reason=PbxReason.HTTP_ERROR
            )
        if status >= 400:
            raise PbxBadResponse(
                f"PBX at {self._where} answered HTTP {status} (check TELSAM_API_URL)",
                reason=PbxReason.HTTP_ERROR,
            )
        return redact(decode_body(body, encoding), self._secrets)

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        # One socket read at a time (`read1`): urllib3's `read(n)`, under `iter_content`, waits for
        # n bytes, so a PBX trickling a small answer would hold us to its end, deadline or not.
        raw = response.raw
        read = getattr(raw, "read1", raw.read)  # read1: urllib3 2.3+
        chunks, size = [], 0
        while True:
            failure: PbxError | None = None
            try:
                chunk = read(65536, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError:
                failure = self._too_slow()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                # Connection reset or closed mid-answer; built outside so nothing is chained.
                failure = PbxUnavailable(
                    f"PBX at {self._where} broke off its answer ({type(exc).__name__})"
                )
            if failure is not None:
                raise failure
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise PbxBadResponse(
                    f"PBX answer is larger than {MAX_RESPONSE_BYTES:,} bytes; refused"
                )
            if time.monotonic() > deadline:
                raise self._too_slow()
            chunks.append(chunk)

    def _too_slow(self) -> PbxUnavailable:
        return PbxUnavailable(
            f"PBX at {self._where} did not answer within {self.timeout[1]:g} s",
            reason=PbxReason.TIMEOUT,
        )


def _describe_connection_error(exc: requests.ConnectionError, where: str) -> str:
    """A sentence on why a connection failed, without the URL that requests puts in its text."""
    text = str(exc).lower()
    if "remotedisconnected" in text or "connection aborted" in text or "reset by peer" in text:
        return f"PBX at {where} closed the connection without answering"
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("temporary failure in name resolution", "host name not found"),
        ("no address associated", "host name not found"),
        ("failed to resolve", "host name not found"),
        ("no route to host", "no route to host"),
        ("ssl", "TLS error"),
    ):
        if needle in text:
            return f"Could not connect to the PBX at {where} ({reason})"
    return f"Could not connect to the PBX at {where} (network error)"


def client_from_settings() -> TelsamClient:
    """The client configured by `TELSAM_API_*` settings."""
    from django.conf import settings

    return TelsamClient(
        settings.TELSAM_API_URL,
        settings.TELSAM_API_USERNAME,
        settings.TELSAM_API_PASSWORD,
        timeout=settings.TELSAM_API_TIMEOUT,
    )
