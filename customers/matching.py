"""Find the customers behind the numbers of one poll, in one indexed query."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import DatabaseError

from calls.live.diff import CustomerMatch
from customers.models import PhoneNumber, customer_admin_url
from customers.phones import from_pbx

logger = logging.getLogger(__name__)


def match_numbers(raw_numbers: Iterable[str]) -> dict[str, CustomerMatch]:
    """Map each raw PBX number that belongs to a customer to its best match.

    Several customers may share a number (an office switchboard): the most recently updated one is
    the best match and `more` says how many others there are. If the database is unavailable the
    calls stay unknown rather than failing the poll.
    """
    by_e164: dict[str, list[str]] = defaultdict(list)
    for raw in set(raw_numbers):
        e164 = from_pbx(raw)
        if e164:
            by_e164[e164].append(raw)
    if not by_e164:
        return {}
    try:
        customers_of = customers_by_number(by_e164)
    except DatabaseError as exc:
        logger.warning("Customer lookup failed, calls shown as unknown: %s", type(exc).__name__)
        return {}
    matches = {}
    for e164, customers in customers_of.items():
        best_id, name, company = customers[0]
        match = CustomerMatch(
            id=best_id,
            name=name,
            company=company,
            url=customer_admin_url(best_id),
            more=len(customers) - 1,
        )
        for raw in by_e164[e164]:
            matches[raw] = match
    return matches


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
