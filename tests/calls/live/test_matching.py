"""The caller behind a live call's PBX number, whatever format the number was stored in."""

from __future__ import annotations

import time

import pytest

from calls.live.matching import match_numbers
from customers.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "stored",
    ["0532 123 45 67", "+90 (532) 123-45-67", "905321234567", "5321234567", "00905321234567"],
)
def test_a_pbx_number_matches_a_customer_stored_in_any_format(stored):
    ayse = customer_create(name="Ayşe", company="Yılmaz Tekstil", phones=[stored])
    match = match_numbers(["905321234567"])["905321234567"]
    assert (match.id, match.name, match.company, match.more) == (
        ayse.pk,
        "Ayşe",
        "Yılmaz Tekstil",
        0,
    )
    assert match.url == ayse.get_admin_url()


def test_a_foreign_caller_matches_a_customer_stored_with_plus():
    john = customer_create(name="John", company="London Ltd", phones=["+44 20 7123 4567"])
    assert match_numbers(["442071234567"])["442071234567"].id == john.pk


def test_a_shared_number_gives_the_latest_updated_customer_and_counts_the_others():
    customer_create(name="Selin", company="Yılmaz Tekstil", phones=["0212 555 12 34"])
    time.sleep(0.01)
    newest = customer_create(name="Ayşe", company="Yılmaz Tekstil", phones=["0212 555 12 34"])
    match = match_numbers(["902125551234"])["902125551234"]
    assert (match.id, match.more) == (newest.pk, 1)


def test_all_numbers_of_a_poll_are_looked_up_in_one_query(django_assert_num_queries):
    for i in range(20):
        customer_create(name=f"C{i}", phones=[f"0532 000 00 {i:02d}"])
    numbers = [f"9053200000{i:02d}" for i in range(30)]
    with django_assert_num_queries(1):
        matches = match_numbers(numbers)
    assert len(matches) == 20


def test_extensions_and_unknown_numbers_match_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert match_numbers(["110", "", "630"]) == {}
    assert match_numbers(["905559998877"]) == {}
