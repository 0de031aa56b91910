"""`manage.py setup_demo` prepares users and customers for `make demo`, and can run again; it
never gives known passwords to an installation that runs with DEBUG off unless told to."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from calls.models import WallboardQueue, WrapUpCode
from customers.models import Customer, PhoneNumber
from tests.support.compose import env_example_values
from tests.support.processes import run_manage
from tests.support.services import sqlite_url
from tests.support.stack import panel_env

pytestmark = [pytest.mark.django_db, pytest.mark.processes]


@pytest.fixture
def debug_on(settings):
    """As the demo runs: `.env.example` turns DEBUG on."""
    settings.DEBUG = True


@pytest.mark.usefixtures("debug_on")
def test_it_creates_demo_users_who_can_log_in(capsys):
    call_command("setup_demo")
    agent = authenticate(username="agent", password="agent-demo")
    assert not agent.has_perm("calls.hangup_call")
    assert agent.has_perm("customers.add_customer")
    supervisor = authenticate(username="supervisor", password="supervisor-demo")
    assert supervisor.has_perm("calls.hangup_call") and not supervisor.is_superuser
    assert authenticate(username="admin", password="admin-demo").is_superuser
    assert "agent / agent-demo" in capsys.readouterr().out


@pytest.mark.usefixtures("debug_on")
def test_it_stores_sample_numbers_as_e164_whatever_way_they_were_typed():
    call_command("setup_demo")
    ayse = Customer.objects.get(name="Ayşe Yılmaz")
    assert sorted(ayse.phones.values_list("number", flat=True)) == [
        "+902125551234",
        "+905321234567",
    ]
    assert all(n.startswith("+") for n in PhoneNumber.objects.values_list("number", flat=True))


@pytest.mark.usefixtures("debug_on")
def test_it_can_run_twice_without_duplicating_anything():
    call_command("setup_demo")
    models = (Customer, PhoneNumber, WrapUpCode, WallboardQueue)
    counts = [model.objects.count() for model in models]
    call_command("setup_demo")
    assert counts[2] > 0  # the agents have codes to pick in the demo
    assert counts[3] == 2  # the simulator's two queues are on the wallboard, with their levels
    assert [model.objects.count() for model in models] == counts


@pytest.mark.usefixtures("debug_on")
def test_it_leaves_an_installation_s_own_wrap_up_codes_alone():
    WrapUpCode.objects.create(name_tr="Bizim kod", name_en="Our code")
    call_command("setup_demo")
    assert list(WrapUpCode.objects.values_list("name_tr", flat=True)) == ["Bizim kod"]


def test_with_debug_off_it_refuses_to_create_known_passwords(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off") as refused:
        call_command("setup_demo")
    assert "--force" in str(refused.value)
    assert not get_user_model().objects.exists()
    assert not Customer.objects.exists()


def test_with_debug_off_force_creates_them_all_the_same(settings):
    settings.DEBUG = False
    call_command("setup_demo", "--force")
    assert authenticate(username="admin", password="admin-demo").is_superuser


def test_make_demo_creates_them_with_the_settings_it_copies_from_env_example(tmp_path):
    """`scripts/demo` runs migrate and setup_demo with the variables of `.env.example`."""
    demo = env_example_values()
    assert demo["DEBUG"] == "true"
    env = panel_env(
        demo["TELSAM_API_URL"],
        database_url=sqlite_url(tmp_path / "demo.sqlite3"),
        **{name: value for name, value in demo.items() if name != "REDIS_URL"},
    )
    for command in (["migrate", "--no-input", "-v", "0"], ["setup_demo"]):
        result = run_manage(*command, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "admin / admin-demo" in result.stdout
