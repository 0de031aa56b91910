"""The Docker image and the compose stack say what the project really runs.

Docker itself cannot run here (no engine on the development and CI machines), so these tests read
the files and hold them to the project: every command is a real entry point, every variable is
documented, and the documentation names exactly the services the stack has.
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import re
import shlex
import subprocess

import pytest
import yaml

from tests.support.compose import COMPOSE, COMPOSE_TEXT, SERVICES, interpolate
from tests.support.processes import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
DEPLOYMENT_DOC = (ROOT / "docs" / "deployment.md").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
CONFIGURATION_DOC = (ROOT / "docs" / "configuration.md").read_text()


def dockerfile_instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)  # continuation lines
    return [
        line.split(None, 1)[1]
        for line in joined.splitlines()
        if line.strip() and line.split(None, 1)[0] == name
    ]


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_the_stack_has_database_redis_web_worker_one_beat_and_an_optional_proxy():
    assert set(SERVICES) == {"db", "redis", "migrate", "web", "worker", "beat", "proxy"}
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert SERVICES["proxy"]["profiles"] == ["proxy"]
    assert any(v.startswith("pgdata:") for v in SERVICES["db"]["volumes"])
    assert "pgdata" in COMPOSE["volumes"]


def test_the_deployment_guide_names_exactly_the_services_of_the_stack():
    table = re.search(r"\| Service \|.*?\n\n", DEPLOYMENT_DOC, re.S)
    assert table, "docs/deployment.md has a table of services"
    documented = set(re.findall(r"^\| `(\w+)` \|", table.group(0), re.M))
    assert documented == set(SERVICES)


@pytest.mark.parametrize("service", ["db", "redis", "web", "worker", "beat"])
def test_long_running_services_have_healthchecks(service):
    assert SERVICES[service]["healthcheck"]["test"]


def test_the_web_healthcheck_asks_healthz():
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_the_image_runs_the_web_server_the_compose_web_service_runs():
    cmd = yaml.safe_load(dockerfile_instructions("CMD")[-1])  # JSON form is YAML too
    assert cmd == command_of("web")
    assert cmd[:3] == ["python", "-m", "telsam_panel.web"]
    assert callable(importlib.import_module("telsam_panel.web").main)


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_services_run_the_projects_celery_app(service):
    argv = command_of(service)
    assert argv[:3] == ["celery", "-A", "telsam_panel"]
    assert argv[3] == service
    assert importlib.import_module("telsam_panel.celery").app.main == "telsam_panel"


def test_migrate_runs_before_the_panel_starts():
    assert command_of("migrate") == ["python", "manage.py", "migrate", "--noinput"]
    for service in ("web", "worker", "beat"):
        depends = SERVICES[service]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"


def test_the_image_is_slim_non_root_and_collects_static_files():
    assert dockerfile_instructions("FROM")[0].endswith("-slim")
    user = dockerfile_instructions("USER")[-1]
    assert user not in ("root", "0")
    assert any("collectstatic" in run for run in dockerfile_instructions("RUN"))
    for copy in dockerfile_instructions("COPY"):
        source = copy.split()[0]
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the project"


def _build_commands() -> dict[str, str]:
    """The commands that run Django with no deployment's settings: the image's static files and
    CI's check for missing migrations."""
    [collect] = [run for run in dockerfile_instructions("RUN") if "collectstatic" in run]
    ci = (ROOT / ".ci" / "run").read_text()
    [migrations] = [line for line in ci.splitlines() if "makemigrations --check" in line]
    return {"dockerfile-collectstatic": collect, "ci-makemigrations": migrations}


@pytest.mark.processes
@pytest.mark.parametrize("command", sorted(_build_commands()))
def test_build_commands_run_without_a_secret_key_or_debug(command, tmp_path):
    """With DEBUG off, settings refuse the public built-in key: these commands bring their own
    throwaway key, as neither a Docker build nor a clean CI clone has a `.env`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    environment["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{environment['PATH']}"
    environment["STATIC_ROOT"] = str(tmp_path / "static")
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'build.sqlite3'}"
    result = subprocess.run(
        ["bash", "-c", _build_commands()[command]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


NGINX_CONFIG = COMPOSE["configs"]["nginx_conf"]["content"]


def test_the_proxy_upgrades_websockets():
    assert "location /ws/" in NGINX_CONFIG
    assert "proxy_set_header Upgrade $$http_upgrade" in NGINX_CONFIG


def test_the_proxy_replaces_the_clients_x_forwarded_for_with_the_address_it_sees():
    # Appending ($proxy_add_x_forwarded_for) would pass on whatever address the client claims.
    locations = NGINX_CONFIG.count("location ")
    assert NGINX_CONFIG.count("proxy_set_header X-Forwarded-For $$remote_addr;") == locations
    assert "proxy_add_x_forwarded_for" not in NGINX_CONFIG


def test_the_proxy_passes_customer_files_a_little_over_the_panels_limit(settings):
    # A file just over the limit must reach the panel, which refuses it in words; nginx's own
    # refusal is a bare 413 page. The form around the file adds a little to the body.
    limit = re.search(r"^\s*client_max_body_size (\d+)m;", NGINX_CONFIG, re.M)
    assert limit, "nginx must set client_max_body_size"
    assert int(limit.group(1)) > settings.CUSTOMER_IMPORT_MAX_MB


def test_the_web_server_believes_x_forwarded_for_from_the_bundled_proxy_only():
    defaults = {"POSTGRES_PASSWORD": "x"}
    trusted = interpolate(SERVICES["web"]["environment"]["FORWARDED_ALLOW_IPS"], defaults)
    [subnet] = [
        ipaddress.ip_network(c["subnet"]) for c in COMPOSE["networks"]["default"]["ipam"]["config"]
    ]
    proxy_address = SERVICES["proxy"]["networks"]["default"]["ipv4_address"]
    assert trusted == proxy_address
    assert ipaddress.ip_address(proxy_address) in subnet
    # Docker hands out the other containers' addresses from ip_range only: none can take the
    # proxy's fixed one.
    [pool] = [c["ip_range"] for c in COMPOSE["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(proxy_address) not in ipaddress.ip_network(pool)


def test_the_web_port_is_published_on_the_loopback_interface_only():
    for mapping in SERVICES["web"].get("ports", []):
        assert interpolate(mapping, {}).startswith("127.0.0.1:"), mapping


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "telsam_panel" / "settings.py").read_text()
    return set(re.findall(r'env\.\w+(?:\(|,\s*)"([A-Z][A-Z0-9_]+)"', source))


def test_every_setting_is_documented_in_env_example_and_the_configuration_reference():
    variables = variables_read_by_settings()
    assert {"SECRET_KEY", "DATABASE_URL", "TELSAM_API_PASSWORD"} <= variables
    for name in sorted(variables):
        assert re.search(rf"^#? ?{name}=", ENV_EXAMPLE, re.M), f"{name} not in .env.example"
        assert f"`{name}`" in CONFIGURATION_DOC, f"{name} not in docs/configuration.md"


def test_every_variable_compose_interpolates_is_documented_in_env_example():
    for name in set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", COMPOSE_TEXT)):
        assert re.search(rf"^#? ?{name}=", ENV_EXAMPLE, re.M), f"{name} not in .env.example"
