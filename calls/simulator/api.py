"""The simulated PBX's answers to API requests, minus HTTP: query parameters in, the wrapped JSON
answer out (always a one-element list, as the real PBX sends, errors included)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from calls.simulator.vocabulary import (
    MESSAGE_BAD_ACTION,
    MESSAGE_BAD_CREDENTIALS,
    MESSAGE_BAD_DATE,
    MESSAGE_UNKNOWN_CHANNEL,
    parse_cdr_param,
)

if TYPE_CHECKING:
    from calls.simulator.state import PbxSimulator


def answer(simulator: PbxSimulator, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """The wrapped JSON answer of `simulator` to one API request's query parameters."""
    if not simulator.check_credentials(params.get("username", ""), params.get("password", "")):
        return failure(MESSAGE_BAD_CREDENTIALS)
    action = params.get("action", "")
    if action == "activecalls":
        return success(simulator.active_calls())
    if action == "hangupcall":
        try:
            simulator.end_call(params.get("channel", ""))
        except KeyError:
            return failure(MESSAGE_UNKNOWN_CHANNEL)
        return success([])
    if action == "cdr":
        try:
            start = parse_cdr_param(params.get("date1", ""))
            end = parse_cdr_param(params.get("date2", ""))
        except ValueError:
            return failure(MESSAGE_BAD_DATE)
        rows = simulator.cdr_rows(
            start, end, params.get("number", ""), userfield=params.get("uf") == "yes"
        )
        return success(rows)
    return failure(MESSAGE_BAD_ACTION)


def success(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The PBX's success envelope: a one-element list."""
    return [{"success": True, "count": len(rows), "data": rows}]


def failure(message: str) -> list[dict[str, Any]]:
    """The PBX's failure envelope: a one-element list."""
    return [{"success": False, "message": message}]
