"""Crafted query strings: whatever a user (or a scanner) puts in the address bar, every page and
export answers with a form error or 400, never a server error — out-of-range dates, numbers that
overflow, NUL characters, bytes that are not UTF-8, repeated and unknown parameters."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote, quote_from_bytes

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.history.cdr_sync import store_records
from calls.pbx import CdrRecord, Direction
from customers.services import customer_create
from tests.support.export_files import body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

# Every page a supervisor opens with GET, and the parameters it reads.
FILTERS = ["date_from", "date_to", "number", "customer", "direction", "disposition", "queue"]
PAGES = {
    "calls:panel": [],
    "calls:profile": [],
    "calls:caller": ["number"],
    "calls:history": [*FILTERS, "page", "export"],
    "calls:callbacks": ["export"],
    "calls:stats": FILTERS,
}
EDGES = [
    "9999-12-31",
    "0001-01-01",
    "1969-12-31",
    "2000-02-30",
    "10000-01-01",
    "-1",
    "0",
    "99999999999999999999999",
    "1e9999",
    "nan",
    "csv",
    "xlsx",
    "pdf",
    "",
    "\x00",
    "%",
    "+90 532 123 45 67",
    "9" * 5000,
]
VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.text(max_size=40),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.integers().map(str),
    st.text(alphabet="0123456789+-() .e", max_size=80),
).map(str.encode)
RAW_VALUES = st.one_of(VALUES, st.binary(max_size=20))  # not always UTF-8


def query(pairs: list[tuple[str, bytes]]) -> str:
    return "&".join(f"{quote(name)}={quote_from_bytes(value)}" for name, value in pairs)


# Dates near both ends of what Python can represent: a day more or less overflows.
DATES = st.one_of(
    st.sampled_from(["0001-01-01", "0001-01-03", "9999-12-31", "9999-12-28"]),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
).map(str.encode)


def parameters(names: list[str]):
    """Lists of (name, value): some of the page's own parameters (dates drawn mostly as dates),
    then more of them, repeated or unknown."""
    own = st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(DATES, RAW_VALUES) if name.startswith("date") else RAW_VALUES
            for name in names
        },
    ).map(lambda drawn: list(drawn.items()))
    name = st.sampled_from(names) if names else st.text(max_size=8)
    more = st.lists(st.tuples(st.one_of(name, st.text(max_size=8)), RAW_VALUES), max_size=4)
    return st.builds(lambda first, then: first + then, own, more)


@pytest.fixture
def calls_on_record():
    """A few calls, missed and answered, with a customer, so the pages have something to show."""
    now = timezone.now()
    customer_create(name="Ayşe", phones=["0532 123 45 67"])
    store_records(
        [
            CdrRecord(
                id=str(index),
                calldate=now - timedelta(hours=index),
                direction=Direction.IN,
                src="905321234567",
                dst="110",
                duration=30.0,
                disposition=("ANSWERED", "NO ANSWER")[index % 2],
                queue="630",
                record=False,
                userfield="",
            )
            for index in range(4)
        ]
    )


@pytest.fixture
def supervisor(sam) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(sam)
    return client


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("calls:history", {"date_to": "9999-12-31"}),
        ("calls:history", {"date_from": "0001-01-01"}),
        ("calls:history", {"date_from": "0001-01-01", "export": "csv"}),
        ("calls:history", {"date_to": "9999-12-31", "export": "xlsx"}),
        ("calls:stats", {"date_to": "9999-12-31"}),
        ("calls:stats", {"date_from": "0001-01-01"}),
    ],
)
def test_dates_out_of_range_are_a_form_error(calls_on_record, supervisor, page, params):
    response = supervisor.get(reverse(page), params)
    assert response.status_code == 200
    assert response.context["form"].errors, "the page says what is wrong"


def test_an_unknown_export_format_is_a_bad_request(supervisor):
    for page in ("calls:history", "calls:callbacks"):
        assert supervisor.get(reverse(page), {"export": "pdf"}).status_code == 400


@pytest.mark.parametrize("page", sorted(PAGES))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=st.data())
def test_no_query_string_gets_a_server_error(calls_on_record, supervisor, page, pairs):
    drawn = pairs.draw(parameters(PAGES[page]))
    response = supervisor.get(f"{reverse(page)}?{query(drawn)}")
    assert response.status_code < 500, (page, drawn)
    body(response)  # an export fails while it streams, if at all


@pytest.mark.parametrize(
    ("page", "fields"),
    [("calls:profile", ["extensions", "pop_all_calls"]), ("calls:callback-done", ["number"])],
)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=st.data())
def test_no_form_post_gets_a_server_error(calls_on_record, supervisor, page, fields, pairs):
    drawn = pairs.draw(parameters(fields))
    response = supervisor.post(
        reverse(page), query(drawn), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code < 500, (page, drawn)
