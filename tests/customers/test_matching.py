"""Finding a customer by a number in any format in the admin, and storing typed numbers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed", ["+90 (532) 123-45-67", "905321234567", "0532 123 45 67", "123 45 67", "Ayşe"]
)
def test_the_admin_finds_a_customer_by_a_number_in_any_format(sam, typed):
    customer_create(name="Ayşe", company="A", phones=["0532 123 45 67"])
    customer_create(name="Mehmet", company="B", phones=["0533 987 65 43"])
    client = Client()
    client.force_login(sam)
    response = client.get(reverse("admin:customers_customer_changelist"), {"q": typed})
    assert [c.name for c in response.context["cl"].result_list] == ["Ayşe"]


def test_the_admin_number_search_does_not_match_everything_on_zeros(sam):
    customer_create(name="Ayşe", company="A", phones=["0532 123 45 67"])
    client = Client()
    client.force_login(sam)
    response = client.get(reverse("admin:customers_customer_changelist"), {"q": "0000"})
    assert list(response.context["cl"].result_list) == []


def test_the_admin_lists_numbers_as_people_write_them(sam):
    customer_create(name="Ayşe", phones=["+90 (532) 123-45-67", "+44 20 7123 4567"])
    client = Client()
    client.force_login(sam)
    page = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "0532 123 45 67, +44 20 7123 4567" in page
    assert "+905321234567" not in page


def add_customer_in_admin(user, name: str, number: str):
    """Submit the admin's add form with one phone number, as a person would."""
    client = Client()
    client.force_login(user)
    form = {"name": name, "phones-TOTAL_FORMS": "1", "phones-INITIAL_FORMS": "0"}
    return client.post(reverse("admin:customers_customer_add"), {**form, "phones-0-number": number})


def test_the_admin_stores_a_typed_number_in_e164(sam):
    response = add_customer_in_admin(sam, "Can", "0505 555 66 77")
    assert response.status_code == 302, response.content[:300]
    assert Customer.objects.get(name="Can").phones.get().number == "+905055556677"


def test_the_admin_refuses_an_impossible_number(sam):
    response = add_customer_in_admin(sam, "Can", "12")
    assert response.status_code == 200
    assert not Customer.objects.exists()
