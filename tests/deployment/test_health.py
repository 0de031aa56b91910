"""`/healthz`, `/healthz/data` and `manage.py doctor`: what a load balancer, monitoring and an
on-call person rely on.

`/healthz` is the web process's own health (database, Redis): a PBX outage or a stopped beat never
takes a web server out of rotation. `/healthz/data` says whether the live calls and the call history
are fresh. Anyone reads status words; only staff with the permission read the details.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from calls.history.cdr_sync import sync_recent
from calls.live.poll import poll_active_calls
from calls.live.snapshot import redis_client
from telsam_panel.health import STATUSES, max_poll_age
from tests.support.compose import SERVICES
from tests.support.pbx import PBX_PASSWORD
from tests.support.processes import run_manage
from tests.support.services import free_port, own_database_url
from tests.support.stack import PanelStack, panel_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("live_redis")


def get(client, path: str = "/healthz") -> tuple[int, dict]:
    response = client.get(path)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def status_words(body: dict) -> dict:
    return {name: part["status"] for name, part in body.items() if name != "ok"}


@pytest.fixture
def supervisor(client, sam) -> Client:
    client.force_login(sam)
    return client


def a_pbx_that_stopped_answering_a_while_ago(sim) -> None:
    poll_active_calls(now=timezone.now() - timedelta(seconds=max_poll_age() + 5))
    sim.set_fault("success_false")
    poll_active_calls()


def test_before_the_first_poll_the_web_server_is_healthy_and_the_data_is_not(client, db):
    assert get(client) == (200, {"ok": True, **_words(database="ok", redis="ok")})
    status, body = get(client, "/healthz/data")
    assert status == 503
    assert status_words(body) == {"poller": "not_yet", "pbx": "unknown", "cdr_sync": "not_yet"}


def test_after_a_poll_and_a_sync_everything_is_healthy(supervisor, pbx_settings):
    pbx_settings.sim.add_call("05321234567", "110")
    poll_active_calls()
    sync_recent()
    assert get(supervisor)[0] == 200
    status, body = get(supervisor, "/healthz/data")
    assert status == 200, body
    assert status_words(body) == {"poller": "ok", "pbx": "ok", "cdr_sync": "ok"}
    assert body["pbx"]["data"]["last_ok_age_seconds"] < max_poll_age()
    assert body["poller"]["data"]["polls"] == {"ok": 1}


def test_a_pbx_outage_leaves_healthz_at_200_and_monitoring_sees_it(client, db, pbx_settings):
    a_pbx_that_stopped_answering_a_while_ago(pbx_settings.sim)
    assert get(client)[0] == 200
    status, body = get(client, "/healthz/data")
    assert status == 503
    assert status_words(body)["poller"] == "ok"
    assert status_words(body)["pbx"] == "not_answering"


def test_a_stopped_poller_leaves_healthz_at_200_and_monitoring_sees_it(client, db, pbx_settings):
    poll_active_calls(now=timezone.now() - timedelta(seconds=max_poll_age() + 5))
    assert get(client)[0] == 200
    status, body = get(client, "/healthz/data")
    assert status == 503
    assert status_words(body)["poller"] == "stopped"


def test_a_pbx_failing_for_less_than_that_keeps_the_data_healthy(client, db, pbx_settings):
    poll_active_calls(now=timezone.now() - timedelta(seconds=2))
    pbx_settings.sim.set_fault("http_500")
    poll_active_calls()
    assert status_words(get(client, "/healthz/data")[1])["pbx"] == "ok"


@pytest.mark.parametrize("path", ["/healthz", "/healthz/data"])
def test_anonymous_callers_and_agents_read_status_words_only(client, alice, pbx_settings, path):
    a_pbx_that_stopped_answering_a_while_ago(pbx_settings.sim)
    for reader in ("anonymous", "agent"):
        if reader == "agent":
            client.force_login(alice)
        _, body = get(client, path)
        for name, part in body.items():
            if name != "ok":
                assert set(part) == {"ok", "status"}, (reader, name, part)
                assert part["status"] in STATUSES
        text = json.dumps(body)
        assert "Domain" not in text and "127.0.0.1" not in text, (reader, text)


def test_staff_with_the_permission_read_the_pbx_error_in_words_without_secrets(
    supervisor, pbx_settings
):
    a_pbx_that_stopped_answering_a_while_ago(pbx_settings.sim)
    _, body = get(supervisor, "/healthz/data")
    assert body["pbx"]["detail"].startswith("the PBX has not answered: ")
    assert "Domain" in body["pbx"]["detail"]  # the PBX's own reason
    text = json.dumps(body)
    assert PBX_PASSWORD not in text and "password=" not in text


def test_staff_without_the_permission_read_status_words_only(client, sam):
    sam.groups.clear()
    sam.user_permissions.add(Permission.objects.get(codename="view_callrecord"))
    client.force_login(sam)
    _, body = get(client, "/healthz/data")
    assert set(body["poller"]) == {"ok", "status"}


def test_an_unreachable_redis_turns_healthz_unhealthy(client, supervisor, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/13"
    redis_client.cache_clear()
    try:
        status, body = get(supervisor)
        data_status, data = get(supervisor, "/healthz/data")
    finally:
        redis_client.cache_clear()
    assert status == 503
    assert status_words(body) == {"database": "ok", "redis": "unreachable"}
    assert "ConnectionError" in body["redis"]["detail"]
    assert data_status == 503
    # The live state is in Redis; where the history sync stands is in the database.
    assert status_words(data) == {"poller": "unknown", "pbx": "unknown", "cdr_sync": "not_yet"}


@pytest.mark.parametrize("path", ["/healthz", "/healthz/data"])
def test_with_https_both_answer_plain_http_for_probes_on_the_inside(client, db, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code in (200, 503)  # healthy or not, never redirected


def _words(**statuses: str) -> dict:
    return {name: {"ok": word == "ok", "status": word} for name, word in statuses.items()}


def test_compose_checks_the_web_server_with_healthz_and_beat_with_the_poller():
    web = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://localhost:8000/healthz'" in web  # its own health, not the data's
    assert SERVICES["beat"]["healthcheck"]["test"][1:] == [
        "python",
        "manage.py",
        "doctor",
        "--only",
        "poller",
    ]


@pytest.mark.slow
def test_when_the_poller_stops_healthz_stays_200_monitoring_and_doctor_say_why(
    pbx_sim, tmp_path, live_redis
):
    panel = PanelStack(tmp_path, pbx_sim.url, live_redis, poll_interval=1.0)
    panel.manage("migrate", "--no-input", "-v", "0")
    try:
        panel.start()
        assert poller_status(panel) == "ok"  # start() waited for a good poll
        code, output = doctor(panel, "--only", "poller")  # beat's compose healthcheck
        assert (code, output.splitlines()[0][:14]) == (0, "poller    OK  "), output

        panel.beat.stop()  # no more polls are scheduled
        stopped = wait_for(
            lambda: poller_status(panel) == "stopped", timeout=max_poll_age() + 10, step=0.5
        )
        assert stopped, poller_status(panel)
        assert _get(f"{panel.url}/healthz/data")[0] == 503
        assert _get(f"{panel.url}/healthz") == (
            200,
            {"ok": True, **_words(database="ok", redis="ok")},
        )
        code, output = doctor(panel, "--only", "poller")
        assert (code, output.splitlines()[0][:14]) == (1, "poller    FAIL"), output
        panel.worker.stop()
        code, output = doctor(panel)
    finally:
        panel.stop()
    assert code == 1
    assert "poller    FAIL the poller has stopped" in output
    assert "workers   FAIL no Celery worker answered" in output
    assert "pbx_now   OK   answered activecalls" in output
    assert PBX_PASSWORD not in output


def poller_status(panel: PanelStack) -> str | None:
    return _get(f"{panel.url}/healthz/data")[1].get("poller", {}).get("status")


def doctor(panel: PanelStack, *args: str) -> tuple[int, str]:
    result = run_manage("doctor", *args, env=panel.env)
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


@pytest.mark.processes
def test_doctor_explains_configuration_problems_in_words(tmp_path):
    env = panel_env(
        "ftp://pbx.example.invalid/",
        database_url=own_database_url(tmp_path),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/13",
    )
    result = run_manage("doctor", "--offline", env=env)
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
    sync_recent()
    call_command("doctor", "--offline")
    assert "Everything looks fine." in capsys.readouterr().out

    settings.SECURE_HSTS_PRELOAD = False  # one deployment warning, nothing broken
    with pytest.raises(SystemExit) as exited:
        call_command("doctor", "--offline")
    output = capsys.readouterr().out
    assert exited.value.code == 1
    assert "settings  WARN security.W021" in output
    assert "1 problem(s) found." in output


@pytest.mark.slow
def test_healthz_answers_whatever_the_host_header_and_other_pages_still_check_it(tmp_path):
    """The compose healthcheck asks `http://localhost:8000/healthz`, a load balancer asks by IP:
    with `ALLOWED_HOSTS` as the deployment guide sets it, both must still read the health, while
    every page keeps refusing a host it does not serve."""
    panel = PanelStack(
        tmp_path,
        "http://127.0.0.1:9/",
        redis_client(),
        extra_env={"ALLOWED_HOSTS": "panel.example.com"},
    )
    panel.web.start()

    def answer(path: str, host: str) -> int:
        try:
            url = f"{panel.url}{path}"
            return requests.get(
                url, headers={"Host": host}, allow_redirects=False, timeout=10
            ).status_code
        except requests.ConnectionError:
            return 0  # not listening yet

    try:
        assert wait_for(lambda: answer("/accounts/login/", "panel.example.com") == 200, 60), (
            panel.web.tail()
        )
        for host in ("localhost:8000", "10.0.0.7", "panel.example.com"):
            assert answer("/healthz", host) == 200, host
            assert answer("/healthz/data", host) == 503, host  # no poll yet: answered, not refused
        for path in ("/accounts/login/", "/", "/admin/", "/healthz/", "/healthzx"):
            assert answer(path, "localhost:8000") == 400, path
    finally:
        panel.web.stop()
