"""Drive a PBX simulator running in another process through its `/_sim/` control API.

The methods mirror `PbxSimulator`'s driving API, with the same errors: an unknown channel raises
`UnknownChannel` (a KeyError) and a value the simulator refuses raises `InvalidControlRequest` (a
ValueError).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import requests

from calls.simulator.records import RequestLogEntry, UnknownChannel
from calls.simulator.server import UNKNOWN_CHANNEL_CODE


class SimulatorControlError(RuntimeError):
    """The control API failed (unreachable, wrong URL, unexpected answer)."""


class InvalidControlRequest(SimulatorControlError, ValueError):
    """The simulator refused the request's values (HTTP 400)."""


class SimulatorControl:
    """A client for the control API of the simulator at `base_url` (its V1 or V2 URL will do)."""

    def __init__(
        self, base_url: str, *, timeout: float = 5.0, session: requests.Session | None = None
    ) -> None:
        parts = urlsplit(base_url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.root = f"{parts.scheme}://{parts.netloc}/_sim/"
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"<SimulatorControl {self.root}>"

    def add_call(self, src: str, dst: str, **fields: Any) -> str:
        """Start a call (same keyword arguments as `PbxSimulator.add_call`); returns its channel."""
        return str(self._call("POST", "calls", {"src": src, "dst": dst, **fields})["channel"])

    def update_call(self, channel: str, **fields: Any) -> None:
        """Change a live call (`callinfo`, `calltype`, `dst`, `src`)."""
        self._call("POST", "calls/update", {"channel": channel, **fields})

    def end_call(
        self, channel: str, *, disposition: str | None = None, cdr_delay: float = 0.0
    ) -> None:
        """Hang up a call so it becomes a CDR row (`cdr_delay` seconds later, if given)."""
        body: dict[str, Any] = {"channel": channel}
        if disposition is not None:
            body["disposition"] = disposition
        if cdr_delay:
            body["cdr_delay"] = cdr_delay
        self._call("POST", "calls/end", body)

    def add_calls(self, count: int, **fields: Any) -> list[str]:
        """Start `count` calls at once (as `PbxSimulator.add_calls`); returns their channels."""
        return [
            str(c) for c in self._call("POST", "calls/many", {"count": count, **fields})["channels"]
        ]

    def set_fault(
        self,
        kind: str | None,
        *,
        latency: float = 0.0,
        count: int | None = None,
        body: bytes | str | None = None,
        **options: Any,
    ) -> None:
        """Make the next API requests fail as `kind` (same options as `PbxSimulator.set_fault`);
        None clears."""
        request: dict[str, Any] = {"kind": kind, "latency": latency, "count": count, **options}
        if isinstance(body, bytes):
            request["body_base64"] = base64.b64encode(body).decode("ascii")
        elif body is not None:
            request["body"] = body
        self._call("POST", "fault", request)

    def request_log(self) -> list[RequestLogEntry]:
        """The API requests the simulator received (password masked)."""
        data = self._call("GET", "requests")
        return [RequestLogEntry.from_json(entry) for entry in data["requests"]]

    def clear_request_log(self) -> None:
        """Forget the requests received so far."""
        self._call("POST", "requests/clear", {})

    def reset(self) -> None:
        """Drop calls, CDR, faults and the log."""
        self._call("POST", "reset", {})

    def state(self) -> dict[str, Any]:
        """`{"active_calls": [...], "cdr_count": N, "fault": {...} | None, "traffic": bool}`."""
        return self._call("GET", "state")

    def _call(self, method: str, endpoint: str, body: dict[str, Any] | None = None) -> Any:
        url = self.root + endpoint
        try:
            response = self._session.request(method, url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SimulatorControlError(f"simulator control API at {url} failed: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        if (
            response.status_code == 404
            and isinstance(data, dict)
            and data.get("code") == UNKNOWN_CHANNEL_CODE
        ):
            raise UnknownChannel(body.get("channel") if body else None)
        if response.status_code == 400:
            raise InvalidControlRequest(error or "the simulator refused the request")
        if response.status_code != 200 or not isinstance(data, dict):
            raise SimulatorControlError(
                f"simulator control API {method} {endpoint} answered HTTP {response.status_code}"
                + (f": {error}" if error else "")
            )
        return data
