"""Every change that may move a number to another customer is announced once, through
`customers.linking.numbers_changed`, after the commit: the apps that link records to customers
listen to it, and customers knows nothing of them."""

from __future__ import annotations

import pytest

from customers.importing import import_customers_file
from customers.linking import numbers_changed
from customers.models import Customer
from customers.services import customer_create

pytestmark = pytest.mark.django_db

AYSE, CAN = "+905321234567", "+905559998877"


@pytest.fixture
def announced():
    """The sets of numbers announced while the test runs, in order."""
    sent = []

    def listen(sender, numbers, **kwargs):
        sent.append(set(numbers))

    numbers_changed.connect(listen)
    yield sent
    numbers_changed.disconnect(listen)


def test_a_new_customer_announces_their_numbers(announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_create(name="Ayşe", phones=["0532 123 45 67"])
    assert announced == [{AYSE}]


def test_an_edited_number_announces_the_old_one_and_the_new(
    announced, django_capture_on_commit_callbacks
):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    with django_capture_on_commit_callbacks(execute=True):
        phone = ayse.phones.get()
        phone.number = CAN
        phone.save()
    assert announced == [{AYSE, CAN}]


def test_a_removed_number_and_a_deleted_customer_are_announced(
    announced, django_capture_on_commit_callbacks
):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67", "0555 999 88 77"])
    with django_capture_on_commit_callbacks(execute=True):
        ayse.phones.get(number=CAN).delete()
    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.get().delete()
    assert announced == [{CAN}, {AYSE}, {AYSE}]  # the customer, then their number's own delete


def test_a_saved_customer_announces_their_numbers(announced, django_capture_on_commit_callbacks):
    # The latest-updated customer of a shared number is its best match: saving may change that.
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    with django_capture_on_commit_callbacks(execute=True):
        ayse.save()
    assert announced == [{AYSE}]


def test_an_import_announces_the_numbers_it_touched(
    announced, django_capture_on_commit_callbacks, tmp_path
):
    # Its bulk writes send no model signals: the import announces them itself, once.
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    path = tmp_path / "liste.csv"
    path.write_text(f"id,name,phone\r\n{ayse.pk},Ayşe,0555 999 88 77\r\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        import_customers_file(path)
    assert list(ayse.phones.values_list("number", flat=True)) == [CAN]
    # The dropped number's delete sends its model signal too; the import names both.
    assert announced[-1] == {AYSE, CAN}


def test_nothing_is_announced_before_the_commit(announced):
    customer_create(name="Ayşe", phones=["0532 123 45 67"])  # the test's transaction never commits
    assert announced == []
