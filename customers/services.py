"""Customer business logic used by the admin, the importer and the demo."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from customers.linking import announce_numbers_changed
from customers.models import Customer, PhoneNumber
from customers.phones import normalize


@transaction.atomic
def customer_create(*, phones: Iterable[str] = (), **fields) -> Customer:
    """Create a customer with its phone numbers, each normalised to E.164.

    Raises `customers.phones.InvalidPhoneNumber` (and creates nothing) if any number is unusable.
    """
    numbers = list(dict.fromkeys(normalize(p) for p in phones))
    customer = Customer.objects.create(**fields)
    PhoneNumber.objects.bulk_create(PhoneNumber(customer=customer, number=n) for n in numbers)
    announce_numbers_changed(numbers)  # bulk_create sends no signals
    return customer
