"""The login lockout holds in the shipped stack: the web server runs with the settings
docker-compose.yml gives it, and a password guesser who forges a new X-Forwarded-For address for
every guess is still locked out (the lockout counts per username and client address)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import requests
from django.conf import settings

from tests.support.compose import env_example_values, environment_of
from tests.support.stack import PanelStack, starts_processes

PASSWORD = "alice-compose-pass-123"
# Containers of the compose file the test machine does not have; the test's own stand in.
CONTAINER_ADDRESSES = {"DATABASE_URL", "REDIS_URL"}


def compose_web_environment() -> dict[str, str]:
    variables = {**env_example_values(), "POSTGRES_PASSWORD": "compose-db-password"}
    web = environment_of("web", variables)
    return {name: value for name, value in web.items() if name not in CONTAINER_ADDRESSES}


@pytest.fixture(scope="module")
@starts_processes
def compose_web(tmp_path_factory) -> Iterator[str]:
    """The web server alone (a login needs no worker), as compose runs it; its URL."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    panel = PanelStack(
        tmp_path_factory.mktemp("compose-web"),
        "http://127.0.0.1:9/",
        client,
        extra_env=compose_web_environment(),
    )
    panel.manage("migrate", "--no-input", "-v", "0")
    panel.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user('alice', password={PASSWORD!r})",
    )
    try:
        panel.web.start()
        panel.wait_for_web()
        yield panel.url
    finally:
        panel.web.stop()
        client.close()


def log_in(url: str, password: str, forged_address: str) -> int:
    """One login from a fresh browser claiming to be `forged_address`; the status code."""
    headers = {"X-Forwarded-For": forged_address}
    browser = requests.Session()
    browser.get(f"{url}/accounts/login/", headers=headers, timeout=10)
    response = browser.post(
        f"{url}/accounts/login/",
        {
            "username": "alice",
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "next": "/",
        },
        headers=headers,
        timeout=10,
        allow_redirects=False,
    )
    return response.status_code


def test_a_new_forged_address_for_every_wrong_password_still_locks_the_account(compose_web):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        log_in(compose_web, f"guess-{number}", forged_address=f"203.0.113.{number}")
        for number in range(1, limit + 1)
    ]
    assert statuses == [200] * (limit - 1) + [429]

    assert log_in(compose_web, PASSWORD, forged_address="198.51.100.77") == 429
