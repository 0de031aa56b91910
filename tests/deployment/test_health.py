"""`/healthz` and `manage.py doctor`: what a load balancer and an on-call person rely on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from calls.live_state import redis_client
from calls.poller import poll_active_calls
from telsam_panel.health import max_poll_age
from tests import stack
from tests.conftest import PBX_PASSWORD
from tests.stack import PanelStack, wait_for

pytestmark = pytest.mark.usefixtures("live_redis")


def healthz(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content)


def test_it_needs_no_login_and_is_unhealthy_before_the_first_poll(client, db):
    status, body = healthz(client)
    assert status == 503
    assert body["ok"] is False
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["poller"] == {**body["poller"], "ok": False, "detail": "no poll has run yet"}


def test_it_is_healthy_right_after_a_successful_poll(client, db, pbx_settings):
    pbx_settings.sim.add_call("05321234567", "110")
    poll_active_calls()
    status, body = healthz(client)
    assert status == 200, body
    assert body["ok"] is True
    assert body["poller"]["data"]["last_ok_age_seconds"] < max_poll_age()
    assert body["poller"]["data"]["polls"] == {"ok": 1}


def test_a_pbx_failing_for_a_few_intervals_turns_it_unhealthy_in_words_without_secrets(
    client, db, pbx_settings
):
    poll_active_calls(now=timezone.now() - timedelta(seconds=max_poll_age() + 5))
    pbx_settings.sim.set_fault("success_false")
    poll_active_calls()
    status, body = healthz(client)
    assert status == 503
    assert body["poller"]["detail"].startswith("the PBX has not answered: ")
    assert "Domain" in body["poller"]["detail"]  # the PBX's own reason, shown
    text = json.dumps(body)
    assert PBX_PASSWORD not in text and "password=" not in text


def test_a_pbx_failing_for_less_than_that_keeps_it_healthy(client, db, pbx_settings):
    poll_active_calls(now=timezone.now() - timedelta(seconds=2))
    pbx_settings.sim.set_fault("http_500")
    poll_active_calls()
    assert healthz(client)[0] == 200


def test_an_unreachable_redis_turns_it_unhealthy(client, db, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{stack.free_port()}/13"
    redis_client.cache_clear()
    try:
        status, body = healthz(client)
    finally:
        redis_client.cache_clear()
    assert status == 503
    assert body["redis"]["ok"] is False
    assert "ConnectionError" in body["redis"]["detail"]
    assert body["database"]["ok"] is True


@pytest.mark.slow
def test_it_turns_unhealthy_when_the_poller_stops_and_doctor_says_why(
    pbx_sim, tmp_path, live_redis
):
    panel = PanelStack(tmp_path, pbx_sim.url, live_redis, poll_interval=1.0)
    panel.manage("migrate", "--no-input", "-v", "0")
    try:
        panel.start()
        assert wait_for(lambda: _get(f"{panel.url}/healthz")[0] == 200, timeout=15)
        assert doctor(panel)[0] == 0

        panel.beat.stop()  # no more polls are scheduled
        code, body = wait_for(
            lambda: (r := _get(f"{panel.url}/healthz"))[0] == 503 and r,
            timeout=max_poll_age() + 10,
            step=0.5,
        )
        assert "the poller has stopped" in body["poller"]["detail"]
        panel.worker.stop()
        code, output = doctor(panel)
    finally:
        panel.stop()
    assert code == 1
    assert "poller    FAIL the poller has stopped" in output
    assert "workers   FAIL no Celery worker answered" in output
    assert "pbx       OK   answered activecalls" in output
    assert PBX_PASSWORD not in output


def doctor(panel: PanelStack) -> tuple[int, str]:
    result = stack.run_manage("doctor", env=panel.env)
    return result.returncode, result.stdout + result.stderr


def _get(url: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (our own server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def test_doctor_explains_configuration_problems_in_words(tmp_path):
    env = stack.panel_env(
        "ftp://pbx.example.invalid/",
        database_url=stack.own_database_url(tmp_path),
        REDIS_URL=f"redis://127.0.0.1:{stack.free_port()}/13",
    )
    result = stack.run_manage("doctor", "--offline", env=env)
    assert result.returncode == 1
    assert "redis     FAIL ConnectionError" in result.stdout
    assert "settings  FAIL calls.E001: TELSAM_API_URL is not an http(s) URL" in result.stdout
    assert PBX_PASSWORD not in result.stdout + result.stderr


def _production(settings) -> None:
    """Settings with which Django's deployment checks have nothing to say."""
    settings.SECRET_KEY = "production-" + "k3y-" * 12
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


def test_doctor_exits_non_zero_on_a_warning_alone(db, settings, pbx_settings, capsys):
    _production(settings)
    poll_active_calls()
    call_command("doctor", "--offline")
    assert "Everything looks fine." in capsys.readouterr().out

    settings.SECURE_HSTS_PRELOAD = False  # one deployment warning, nothing broken
    with pytest.raises(SystemExit) as exited:
        call_command("doctor", "--offline")
    output = capsys.readouterr().out
    assert exited.value.code == 1
    assert "settings  WARN security.W021" in output
    assert "1 problem(s) found." in output
