"""Call records point at the customer behind their outside number, and keep doing so when
customers or their numbers change later."""

from __future__ import annotations

from collections.abc import Iterable

from customers.matching import customers_by_number


def customers_for_numbers(e164_numbers: Iterable[str]) -> dict[str, int]:
    """E.164 number → id of its best-matching customer (numbers without one are left out)."""
    return {
        number: customers[0][0] for number, customers in customers_by_number(e164_numbers).items()
    }


def relink_call_records(e164_numbers: Iterable[str]) -> None:
    """Point the call records of these numbers at their current best customer (or none)."""
    from calls.models import CallRecord  # calls depends on customers, not the other way round

    numbers = set(e164_numbers) - {""}
    if not numbers:
        return
    best = customers_for_numbers(numbers)
    # One query finds the numbers whose calls point elsewhere: most numbers of an imported
    # customer list have no call yet, and a query each would cost an import one per number.
    stale = {
        number
        for number, customer_id in CallRecord.objects.filter(outside_number__in=numbers)
        .order_by()
        .values_list("outside_number", "customer_id")
        .distinct()
        if customer_id != best.get(number)
    }
    for number in stale:
        CallRecord.objects.filter(outside_number=number).exclude(
            customer_id=best.get(number)
        ).update(customer_id=best.get(number))
