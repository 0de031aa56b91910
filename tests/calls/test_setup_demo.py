"""`manage.py setup_demo` prepares users and customers for `make demo`, and can run again."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from customers.models import Customer, PhoneNumber

pytestmark = pytest.mark.django_db


def test_it_creates_demo_users_who_can_log_in(capsys):
    call_command("setup_demo")
    agent = authenticate(username="agent", password="agent-demo")
    assert not agent.has_perm("calls.hangup_call")
    assert agent.has_perm("customers.add_customer")
    supervisor = authenticate(username="supervisor", password="supervisor-demo")
    assert supervisor.has_perm("calls.hangup_call") and not supervisor.is_superuser
    assert authenticate(username="admin", password="admin-demo").is_superuser
    assert "agent / agent-demo" in capsys.readouterr().out


def test_it_stores_sample_numbers_as_e164_whatever_way_they_were_typed():
    call_command("setup_demo")
    ayse = Customer.objects.get(name="Ayşe Yılmaz")
    assert sorted(ayse.phones.values_list("number", flat=True)) == [
        "+902125551234",
        "+905321234567",
    ]
    assert all(n.startswith("+") for n in PhoneNumber.objects.values_list("number", flat=True))


def test_it_can_run_twice_without_duplicating_anything():
    call_command("setup_demo")
    customers, numbers = Customer.objects.count(), PhoneNumber.objects.count()
    call_command("setup_demo")
    assert (Customer.objects.count(), PhoneNumber.objects.count()) == (customers, numbers)
