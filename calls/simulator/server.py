"""The PBX simulator over HTTP: the Telsam API on `/` and `/api/old/get`, a control API on `/_sim/`.

The API side answers like the real PBX (always HTTP 200 with the wrapped JSON, even for errors) and
applies the configured fault to every API request. The control API is JSON in and out, needs no
PBX credentials and is never subject to faults; it is a test and demo tool, so the server binds to
127.0.0.1 unless told otherwise.

The server speaks HTTP/1.0, closing the connection after each answer: a stopped simulator must
refuse the next request at once rather than keep serving it on a pooled keep-alive connection.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import logging
import socket
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from calls.simulator.api import failure
from calls.simulator.faults import JSON_CONTENT_TYPE, reshape_payload
from calls.simulator.records import UnknownChannel
from calls.simulator.state import PbxSimulator
from calls.simulator.vocabulary import MESSAGE_BAD_DOMAIN
from telsam_panel.redact import redact

logger = logging.getLogger("calls.simulator")

API_PATHS = frozenset({"/", "/api/old/get"})
CONTROL_PREFIX = "/_sim/"
# Marks a control-API 404 as "no such channel" (not "no such endpoint") for SimulatorControl.
UNKNOWN_CHANNEL_CODE = "unknown_channel"
_MAX_BODY = 64 * 1024

_HTML_ERROR_PAGE = """<!DOCTYPE html>
<html lang="tr"><head><meta charset="utf-8"><title>Hata</title></head>
<body><h1>Sunucu Hatası</h1><p>İşleminiz şu anda gerçekleştirilemiyor.
Lütfen daha sonra tekrar deneyiniz.</p></body></html>
"""


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Don't let stop() wait for handlers asleep in a latency fault.
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: PbxSimulator) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.simulator = simulator
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out before a slow answer is expected here, not a bug to print.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        logger.exception("Simulator failed to answer a request from %s", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "TelsamPbxSimulator/1.0"
    # Bound the damage of a client that connects and sends nothing.
    timeout = 30

    # --- dispatch -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, params = self._split()
        if path in API_PATHS:
            self._serve_api(path, params)
        elif path.startswith(CONTROL_PREFIX):
            self._serve_control("GET", path)
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such path: {path}"})

    def do_POST(self) -> None:
        path, _ = self._split()
        if path.startswith(CONTROL_PREFIX):
            self._serve_control("POST", path)
        elif path in API_PATHS:
            self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the PBX API takes GET"})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such path: {path}"})

    def _split(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        # Like PHP's $_GET, the last of repeated parameters wins.
        return parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True))

    # --- the PBX API --------------------------------------------------------------------------

    def _serve_api(self, path: str, params: dict[str, str]) -> None:
        simulator = self.server.simulator
        simulator.log_request(path, params)
        fault = simulator.take_fault()
        # Any fault may come late: `latency` is the point of "latency" and the wait of "hang"
        # ("trickle" spreads it over the body instead).
        if fault is not None and fault.kind != "trickle" and self._sleep(fault.latency):
            self.close_connection = True
            return
        if fault is None or fault.kind == "latency":
            self._send_body(HTTPStatus.OK, _dump(simulator.api_payload(params)))
        elif fault.kind == "hang":
            # Say nothing and drop the connection.
            self.close_connection = True
        elif fault.kind == "http_500":
            body = _HTML_ERROR_PAGE.encode()
            self._send_body(HTTPStatus.INTERNAL_SERVER_ERROR, body, "text/html; charset=utf-8")
        elif fault.kind == "html":
            self._send_body(HTTPStatus.OK, _HTML_ERROR_PAGE.encode(), "text/html; charset=utf-8")
        elif fault.kind == "truncated":
            # A complete HTTP answer whose JSON stops half-way, as when a PHP worker dies mid-echo.
            body = _dump(simulator.api_payload(params))
            self._send_body(HTTPStatus.OK, body[: max(1, len(body) // 2)])
        elif fault.kind == "success_false":
            self._send_body(HTTPStatus.OK, _dump(failure(MESSAGE_BAD_DOMAIN)))
        elif fault.kind == "trickle":
            self._trickle(_dump(simulator.api_payload(params)), fault.latency)
        elif fault.kind == "raw":
            self._send_body(fault.status, fault.body, fault.content_type)
        elif fault.kind == "reshape":
            body = reshape_payload(simulator.api_payload(params), fault)
            # A PBX that does not speak UTF-8 rarely says which charset it speaks instead.
            utf8 = codecs.lookup(fault.encoding).name == "utf-8"
            self._send_body(HTTPStatus.OK, body, JSON_CONTENT_TYPE if utf8 else "application/json")

    def _trickle(self, body: bytes, seconds: float, pieces: int = 20) -> None:
        """A correct answer, sent in pieces over `seconds`: no single read ever waits long, so
        only a client with a deadline for the whole answer notices how slow it is."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            self.wfile.write(body[start : start + size])
            self.wfile.flush()
            if self._sleep(seconds / pieces):
                self.close_connection = True
                return

    def _sleep(self, seconds: float) -> bool:
        """Wait, waking early if the server stops; True if it did (then don't answer)."""
        return seconds > 0 and self.server.stopping.wait(seconds)

    # --- the control API ----------------------------------------------------------------------

    def _serve_control(self, method: str, path: str) -> None:
        route = _CONTROL_ROUTES.get(path.removeprefix(CONTROL_PREFIX).rstrip("/"))
        if route is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such control endpoint: {path}"})
            return
        allowed, action = route
        if method != allowed:
            self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"use {allowed} on {path}"})
            return
        body: dict[str, Any] = {}
        if method == "POST":
            try:
                body = self._read_json()
            except ValueError as exc:
                self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
        try:
            result = action(self.server.simulator, body)
        except UnknownChannel as exc:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": str(exc), "code": UNKNOWN_CHANNEL_CODE})
        except (TypeError, ValueError) as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        else:
            self._send_json(HTTPStatus.OK, result)

    def _read_json(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ValueError("bad Content-Length") from None
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise ValueError("request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError("request body must be a JSON object")
        return data

    # --- output -------------------------------------------------------------------------------

    def _send_json(self, status: HTTPStatus, payload: Any) -> None:
        self._send_body(status, _dump(payload))

    def _send_body(
        self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8"
    ) -> None:
        # Any code, not only those HTTPStatus names: a broken PBX may answer 599 or 520.
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Routine polls arrive every second or two: only failures are worth an INFO line.
        failed = str(code).isdigit() and int(code) >= 400
        self._log(logging.INFO if failed else logging.DEBUG, f'"{self.requestline}" {code} {size}')

    def log_message(self, format: str, *args: Any) -> None:
        self._log(logging.INFO, format % args)

    def _log(self, level: int, text: str) -> None:
        # The request line carries the password in its query string.
        text = redact(text, [self.server.simulator.password])
        logger.log(level, "%s %s", self.address_string(), text)


def _dump(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


# --- control actions: (simulator, JSON body) → JSON result ----------------------------------


def _add_call(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    return {"channel": simulator.add_call(**body)}


def _update_call(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    fields = dict(body)
    simulator.update_call(_channel(fields.pop("channel", None)), **fields)
    return {"ok": True}


def _end_call(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    fields = dict(body)
    simulator.end_call(_channel(fields.pop("channel", None)), **fields)
    return {"ok": True}


def _set_fault(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    if "kind" not in body:
        raise ValueError('"kind" is required (null clears the fault)')
    options = dict(body)
    # JSON has no bytes: a raw body comes as text (sent as UTF-8) or base64 (any bytes).
    if "body_base64" in options:
        try:
            options["body"] = base64.b64decode(options.pop("body_base64"), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError('"body_base64" is not valid base64') from None
    simulator.set_fault(**options)
    return {"ok": True}


def _add_many_calls(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    return {"channels": simulator.add_calls(**body)}


def _requests(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    return {"requests": [entry.to_json() for entry in simulator.request_log()]}


def _clear_requests(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    simulator.clear_request_log()
    return {"ok": True}


def _reset(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    simulator.reset()
    return {"ok": True}


def _state(simulator: PbxSimulator, body: dict[str, Any]) -> dict[str, Any]:
    return simulator.state()


def _channel(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError('"channel" is required')
    return value


_Action = Callable[[PbxSimulator, dict[str, Any]], dict[str, Any]]
_CONTROL_ROUTES: dict[str, tuple[str, _Action]] = {
    "calls": ("POST", _add_call),
    "calls/many": ("POST", _add_many_calls),
    "calls/update": ("POST", _update_call),
    "calls/end": ("POST", _end_call),
    "fault": ("POST", _set_fault),
    "requests": ("GET", _requests),
    "requests/clear": ("POST", _clear_requests),
    "reset": ("POST", _reset),
    "state": ("GET", _state),
}


class SimulatorServer:
    """Serves a `PbxSimulator` over HTTP on a daemon thread; `port=0` picks a free port.

    Use `start()`/`stop()` or `with SimulatorServer(sim) as server:`.
    """

    def __init__(self, simulator: PbxSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._httpd = _HttpServer((host, port), simulator)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<SimulatorServer {self.url}>"

    @property
    def url(self) -> str:
        """The V1 base URL (`http://127.0.0.1:PORT/`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def v2_url(self) -> str:
        """The V2 base URL (`http://127.0.0.1:PORT/api/old/get`)."""
        return f"{self.url}api/old/get"

    def start(self) -> SimulatorServer:
        """Start serving on a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                # stop() waits up to one poll interval; tests start and stop many servers.
                kwargs={"poll_interval": 0.02},
                name=f"pbx-simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; handlers still sleeping in a fault give up."""
        self._httpd.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
