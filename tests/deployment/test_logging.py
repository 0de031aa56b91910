"""Logs go to stdout, one record per line; `LOG_FORMAT=json` makes each line a JSON object that a
log collector can read, with secrets masked like everywhere else."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.pbx import PBX_PASSWORD
from tests.support.processes import run_manage
from tests.support.services import sqlite_url
from tests.support.stack import panel_env

pytestmark = pytest.mark.processes

LOG_SOME_RECORDS = f"""
import logging
log = logging.getLogger("calls.live.poll")
log.warning("PBX poll failed: GET http://pbx/?password={PBX_PASSWORD}&action=activecalls")
try:
    raise RuntimeError("{PBX_PASSWORD}")
except RuntimeError:
    log.exception("poll crashed")
"""


def run_shell(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = panel_env(
        "http://127.0.0.1:9/", database_url=sqlite_url(tmp_path / "log.sqlite3"), **env
    )
    result = run_manage("shell", "--no-imports", "-c", LOG_SOME_RECORDS, env=environment)
    assert result.returncode == 0, result.stderr
    return result


def test_json_logs_are_one_object_per_line_on_stdout_with_secrets_masked(tmp_path):
    result = run_shell(tmp_path, LOG_FORMAT="json")
    records = [json.loads(line) for line in result.stdout.splitlines() if line]
    assert [(r["level"], r["logger"]) for r in records] == [
        ("WARNING", "calls.live.poll"),
        ("ERROR", "calls.live.poll"),
    ]
    assert records[0]["message"].startswith("PBX poll failed: GET http://pbx/?password=***")
    assert "RuntimeError: ***" in records[1]["exc_info"]
    assert {"time", "process"} <= set(records[0])
    assert PBX_PASSWORD not in result.stdout + result.stderr


def test_plain_logs_are_readable_lines_on_stdout(tmp_path):
    result = run_shell(tmp_path)
    assert "WARNING calls.live.poll: PBX poll failed" in result.stdout
    assert "poll crashed" in result.stdout
    assert PBX_PASSWORD not in result.stdout + result.stderr
