"""The customers behind phone numbers, in one indexed query (live calls: calls.live.matching)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from customers.models import PhoneNumber


def customers_by_number(e164_numbers: Iterable[str]) -> dict[str, list[tuple[int, str, str]]]:
    """E.164 number → its customers as (id, name, company), best match (latest updated) first.

    One indexed query, whatever the count of numbers.
    """
    rows = (
        PhoneNumber.objects.filter(number__in=list(e164_numbers))
        .order_by("number", "-customer__updated_at", "-customer_id")
        .values_list("number", "customer_id", "customer__name", "customer__company")
    )
    # (customer, number) is unique, so each row is a different customer of that number.
    customers_of: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for number, customer_id, name, company in rows:
        customers_of[number].append((customer_id, name, company))
    return customers_of
