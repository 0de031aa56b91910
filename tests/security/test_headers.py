"""Security headers and cookies on every response; HTTPS behaviour once it is turned on; and
`manage.py check --deploy` clean with production-like settings."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.support.processes import run_manage

pytestmark = pytest.mark.django_db


def logged_in(user, **defaults) -> Client:
    client = Client(**defaults)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/", "/history/", "/admin/", "/calls/caller/?number=1"]
)
def test_every_page_carries_the_security_headers(alice, path):
    response = logged_in(alice).get(path)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_no_script_can_read_the_cookies(client, alice):
    client.get("/accounts/login/")  # sets the CSRF cookie
    client.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, "django_language"):
        cookie = client.cookies[name]
        assert cookie["httponly"], name
        assert cookie["samesite"] == "Lax", name
        assert not cookie["secure"], f"{name}: plain HTTP development needs it off by default"


@pytest.fixture
def https(settings):
    """What HTTPS=true sets (telsam_panel/settings.py), behind a proxy saying X-Forwarded-Proto."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.LANGUAGE_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_with_https_plain_http_is_redirected(https, client):
    response = client.get("/accounts/login/?next=/")
    assert response.status_code == 301
    assert response.url == "https://testserver/accounts/login/?next=/"


def test_with_https_the_health_check_still_answers_plain_http(https, client):
    assert client.get("/healthz").status_code in (200, 503)  # healthy or not, never redirected


def test_with_https_the_proxy_header_tells_and_hsts_and_secure_cookies_follow(https, alice):
    browser = Client(HTTP_X_FORWARDED_PROTO="https")
    login = browser.get("/accounts/login/")
    assert login.status_code == 200
    assert login["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    browser.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    assert browser.cookies[settings.SESSION_COOKIE_NAME]["secure"]
    assert browser.cookies[settings.CSRF_COOKIE_NAME]["secure"]


def test_a_client_cannot_claim_https_by_itself_without_the_proxy_setting(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301


def _check_deploy(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "telsam_panel.settings", **env}
    return run_manage("check", "--deploy", "--fail-level", "WARNING", env=environment)


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "panel.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://panel.example.com",
    "HTTPS": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "SECURE_HSTS_PRELOAD": "true",
}


@pytest.mark.processes
def test_check_deploy_is_clean_with_production_settings():
    result = _check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.processes
def test_check_deploy_names_what_plain_http_development_leaves_off():
    result = _check_deploy(**{**PRODUCTION, "HTTPS": "false", "SECURE_HSTS_PRELOAD": "false"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr
