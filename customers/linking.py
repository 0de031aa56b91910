"""What other apps need to link their records to customers: the best customer behind a number,
and word whenever that may have changed. They listen (the call history re-links its calls,
`calls.history.linking`); customers knows nothing of them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from customers.matching import customers_by_number
from customers.models import Customer

# Sent after the commit, with `numbers`: a frozenset of E.164 numbers whose best customer may
# have changed.
numbers_changed = Signal()


def customers_for_numbers(e164_numbers: Iterable[str]) -> dict[str, int]:
    """E.164 number → id of its best-matching customer (numbers without one are left out)."""
    return {
        number: customers[0][0] for number, customers in customers_by_number(e164_numbers).items()
    }


def announce_numbers_changed(e164_numbers: Iterable[str]) -> None:
    """Say, once the transaction commits, that these numbers may belong to another customer now
    (a number added, edited or removed; a customer saved or deleted). Every such change, by a
    model signal, a service or an import, is announced through here."""
    numbers = frozenset(e164_numbers) - {""}
    if numbers:
        transaction.on_commit(lambda: numbers_changed.send(sender=Customer, numbers=numbers))
