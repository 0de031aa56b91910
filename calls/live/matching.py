"""The customer behind each live call's outside number: the numbers of one poll in one query."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import DatabaseError

from calls.live.diff import CustomerMatch
from customers.matching import customers_by_number
from customers.models import customer_admin_url
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
