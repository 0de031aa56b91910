"""The people the tests speak of, the same in every tier: Alice the agent (her desk phone is
extension 110), Sam the supervisor (he may hang up calls), and Ayşe, a customer who calls.

Tests on pytest-django's database get them from the `alice` and `sam` fixtures; a stack of real
processes gets them through `seed_code()` in `manage.py shell`. Both create them with `create()`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    username: str
    password: str
    group: str | None  # the role; None for an account without one
    extensions: str = ""  # the desk phones whose calls pop up, as typed in "my settings"


ALICE = Persona("alice", "alice-pass-123", "Agents", extensions="110")
SAM = Persona("sam", "sam-pass-123", "Supervisors")
PERSONAS = (ALICE, SAM)


@dataclass(frozen=True)
class Customer:
    name: str
    company: str
    notes: str
    phone: str  # as it was typed in, and as the panel shows it
    pbx_number: str  # as the PBX sends it


AYSE = Customer(
    name="Ayşe Yılmaz",
    company="Yılmaz Tekstil A.Ş.",
    notes="Toptan müşteri; sabahları aranmayı tercih ediyor.",
    phone="0532 123 45 67",
    pbx_number="905321234567",
)


def create(persona: Persona, *, with_extensions: bool = True):
    """The persona's account: staff, in its role's group, and (`with_extensions`) with its
    extensions saved as the agent would in "my settings"."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from calls.models import AgentProfile

    user = get_user_model().objects.create_user(
        persona.username, password=persona.password, is_staff=True
    )
    if persona.group:
        user.groups.add(Group.objects.get(name=persona.group))
    if with_extensions:
        AgentProfile.objects.create(user=user, extensions=persona.extensions)
    return user


def create_customer(customer: Customer):
    """The customer, through the app's own service, with the number as a person typed it."""
    from customers.services import customer_create

    return customer_create(
        name=customer.name, company=customer.company, notes=customer.notes, phones=[customer.phone]
    )


def seed_code(*personas: Persona) -> str:
    """Python for `manage.py shell -c`: the personas (Alice and Sam unless named) and Ayşe."""
    return "\n".join(
        [
            "from tests.support.personas import AYSE, Persona, create, create_customer",
            *(f"create({persona!r})" for persona in personas or PERSONAS),
            "create_customer(AYSE)",
        ]
    )


def logged_in(user):
    """A test browser (Django's `Client`) with `user` logged in, in a session of its own."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
