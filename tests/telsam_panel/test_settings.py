"""Configuration comes from the environment; a malformed value stops start-up with its name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each test starts Python afresh: settings are read once per process.
pytestmark = pytest.mark.processes

SETUP = "import django; django.setup(); from django.conf import settings as s; print({})"


def _qualified(expression: str) -> str:
    """`A` → `s.A`, `[A, B]` → `[s.A, s.B]`, `A['x']` → `s.A['x']`: settings by name."""
    return re.sub(r"(?<![\w'.])([A-Z][A-Z0-9_]+)", r"s.\1", expression)


def _start(setting: str, **env: str | None) -> subprocess.CompletedProcess:
    """Start Django with this environment (a variable given as None is unset) and print
    `setting`."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "telsam_panel.settings", **env}
    environment = {name: value for name, value in environment.items() if value is not None}
    return subprocess.run(
        [sys.executable, "-c", SETUP.format(_qualified(setting))],
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
        ("LOGIN_FAILURE_LIMIT", "many"),
        ("LOGIN_LOCKOUT_MINUTES", "0"),
        ("SESSION_COOKIE_AGE", "forever"),
        ("HTTPS", "sometimes"),
        ("SECURE_HSTS_SECONDS", "-1"),
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"),
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
        ({"LOGIN_FAILURE_LIMIT": "3"}, "AXES_FAILURE_LIMIT", "3"),
        ({"LOGIN_LOCKOUT_MINUTES": "30"}, "AXES_COOLOFF_TIME", "0:30:00"),
        ({}, "SESSION_COOKIE_AGE", "43200"),
        ({"SESSION_COOKIE_AGE": "28800"}, "SESSION_COOKIE_AGE", "28800"),
        ({"SESSION_EXPIRE_AT_BROWSER_CLOSE": "true"}, "SESSION_EXPIRE_AT_BROWSER_CLOSE", "True"),
        # Plain HTTP works out of the box; HTTPS=true turns on what needs TLS.
        (
            {},
            "[SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE, SECURE_HSTS_SECONDS]",
            "[False, False, 0]",
        ),
        (
            {"HTTPS": "true"},
            "[SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE, SECURE_HSTS_SECONDS]",
            "[True, True, True, 31536000]",
        ),
        ({"HTTPS": "true", "SECURE_SSL_REDIRECT": "false"}, "SECURE_SSL_REDIRECT", "False"),
        (
            {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"},
            "SECURE_PROXY_SSL_HEADER",
            "('HTTP_X_FORWARDED_PROTO', 'https')",
        ),
        ({"CONTENT_SECURITY_POLICY": ""}, "CONTENT_SECURITY_POLICY", ""),
    ],
)
def test_it_reads_settings_from_the_environment(env, setting, expected):
    result = _start(setting, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


EXAMPLE_SECRET_KEY = re.search(
    r"^SECRET_KEY=(.*)$", (ROOT / ".env.example").read_text(), re.M
).group(1)


def test_with_debug_off_it_refuses_the_example_secret_key():
    result = _start("DEBUG", SECRET_KEY=EXAMPLE_SECRET_KEY, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is the example value from .env.example" in result.stderr


def test_with_debug_off_it_refuses_to_start_without_a_secret_key():
    """The built-in key, like the example, is public: it must never sign real sessions."""
    result = _start("DEBUG", SECRET_KEY=None, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


def test_development_runs_without_a_secret_key_with_debug_on():
    result = _start("DEBUG", SECRET_KEY=None, DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_the_demo_runs_with_the_example_secret_key_and_debug_on():
    result = _start("DEBUG", SECRET_KEY=EXAMPLE_SECRET_KEY, DEBUG="true")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://panel-api:Url-S3cret@pbx.example.com/",
        "http://panel-api@pbx.example.com/",
        "http://pbx.example.com/?username=panel-api&password=Url-S3cret",
    ],
)
def test_it_refuses_a_pbx_url_with_credentials_in_it_without_repeating_them(url):
    result = _start("DEBUG", TELSAM_API_URL=url)
    assert result.returncode != 0
    assert "Environment variable TELSAM_API_URL carries credentials" in result.stderr
    assert "TELSAM_API_USERNAME and TELSAM_API_PASSWORD" in result.stderr
    assert "Url-S3cret" not in result.stderr + result.stdout
