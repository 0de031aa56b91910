"""Call records point at the customer behind their outside number, and keep doing so when
customers or their numbers change (`customers.linking.numbers_changed`)."""

from __future__ import annotations

from collections.abc import Iterable

from django.dispatch import receiver

from calls.models import CallRecord
from customers.linking import customers_for_numbers, numbers_changed


@receiver(numbers_changed, dispatch_uid="calls.history.linking")
def _relink_on_change(sender, numbers: frozenset[str], **kwargs) -> None:
    relink_call_records(numbers)


def relink_call_records(e164_numbers: Iterable[str]) -> None:
    """Point the call records of these numbers at their current best customer (or none)."""
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
