"""A call record points at the customer behind its outside number, and follows every change of
customers and their numbers: made in the admin, by the services or by an import."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calls.history.cdr_sync import store_records
from calls.models import CallRecord
from calls.pbx import CdrRecord, Direction
from customers.importing import import_customers_file
from customers.models import Customer
from customers.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def call_from_ayse():
    store_records(
        [
            CdrRecord(
                id="1", calldate=datetime(2026, 11, 27, 9, tzinfo=UTC), direction=Direction.IN,
                src="905321234567", dst="110", duration=30.0, disposition="ANSWERED", queue="",
                record=False, userfield="",
            )
        ]
    )  # fmt: skip
    return CallRecord.objects.get()


def test_an_imported_customer_is_linked_to_their_earlier_calls(
    call_from_ayse, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "liste.csv"
    path.write_text("name,phone\r\nAyşe,0532 123 45 67\r\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        import_customers_file(path)
    call_from_ayse.refresh_from_db()
    assert call_from_ayse.customer == Customer.objects.get(name="Ayşe")


def test_a_deleted_customer_leaves_their_calls_to_the_next_best(
    call_from_ayse, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        office = customer_create(name="Ofis", phones=["0532 123 45 67"])
        ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    call_from_ayse.refresh_from_db()
    assert call_from_ayse.customer == ayse  # the latest updated
    with django_capture_on_commit_callbacks(execute=True):
        ayse.delete()
    call_from_ayse.refresh_from_db()
    assert call_from_ayse.customer == office
