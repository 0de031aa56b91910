"""Configuration comes from the environment; a malformed value stops start-up with its name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = "import django; django.setup(); from django.conf import settings; print(settings.{})"


def _start(setting: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "telsam_panel.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", SETUP.format(setting)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "perhaps"),
        ("TELSAM_POLL_INTERVAL", "often"),
        ("TELSAM_POLL_INTERVAL", "0.1"),
        ("TELSAM_API_TIMEOUT", "-1"),
        ("PHONE_DEFAULT_REGION", "XX"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("REDIS_URL", "localhost:6379"),
        ("DATABASE_URL", "nonsense"),
        ("SECRET_KEY", "short"),
    ],
)
def test_it_refuses_to_start_with_a_malformed_value(name, value):
    result = _start("DEBUG", **{name: value})
    assert result.returncode != 0
    assert f"Environment variable {name} is malformed" in result.stderr


@pytest.mark.parametrize(
    ("env", "setting", "expected"),
    [
        ({"TELSAM_POLL_INTERVAL": "1"}, "TELSAM_POLL_INTERVAL", "1.0"),
        ({"PHONE_DEFAULT_REGION": "de"}, "PHONE_DEFAULT_REGION", "DE"),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:5432/telsam"},
            "DATABASES['default']['NAME']",
            "telsam",
        ),
        ({"ALLOWED_HOSTS": "a.example,b.example"}, "ALLOWED_HOSTS", "['a.example', 'b.example']"),
    ],
)
def test_it_reads_settings_from_the_environment(env, setting, expected):
    result = _start(setting, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
