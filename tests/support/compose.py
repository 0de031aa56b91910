"""docker-compose.yml as the tests read it, with the values compose would give the processes.

There is no Docker engine on the development and CI machines, so the tests that hold the stack to
its promises read the file and run the real processes with the settings it gives them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from tests.support.processes import ROOT

COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; `$$` is a `$`.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}")


def env_example_values() -> dict[str, str]:
    """What a `.env` copied from `.env.example` sets (compose interpolates from it, `make demo`
    runs with it)."""
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.M))


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """`value` as compose interpolates it from `env` (the shell's and .env's variables)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, colon, kind, argument = match.groups()
        present = name in env and (env[name] != "" or not colon)
        if present:
            return env[name]
        if kind == "-":
            return argument
        if kind == "?":
            raise ValueError(f"compose refuses to start: {argument}")
        return ""

    return _VARIABLE.sub(replace, value)


def environment_of(service: str, env: Mapping[str, str]) -> dict[str, str]:
    """The variables compose sets for `service` itself (its `environment:`), interpolated."""
    environment = SERVICES[service].get("environment") or {}
    return {name: interpolate(str(value), env) for name, value in environment.items()}
