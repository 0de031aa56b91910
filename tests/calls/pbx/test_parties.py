"""A call's outside party and direction: one rule, alike while the call is live and in history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calls.history.cdr_sync import store_records
from calls.live.diff import to_live_call
from calls.models import CallRecord
from calls.pbx import ActiveCall, Direction
from calls.pbx.answers import parse_cdr_record
from calls.pbx.parties import EXTENSION_FIELD, direction_of, outside_number, outside_party
from customers.phones import from_pbx

NOW = datetime(2026, 11, 27, 12, 42, 7, tzinfo=UTC)

# (src, dst, the CDR's calltype for the same call)
CALLS = [
    ("905321234567", "110", "incoming"),
    ("101", "905321234567", "outcoming"),
    ("101", "102", "internal"),
    ("442071234567", "630", "incoming"),
    ("anonymous", "110", "incoming"),
    ("", "110", "incoming"),
    # The CDR's word disagrees with the parties, or is missing.
    ("905321234567", "110", "internal"),
    ("905321234567", "110", ""),
    ("101", "905321234567", "weird"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("src", "dst", "calltype"), CALLS)
def test_a_call_is_classified_alike_live_and_in_history(src, dst, calltype):
    live = to_live_call(
        ActiveCall("SIP/trunk-1", src, dst, "Kuyruk(630)", "Konuşuyor", 5), NOW, "k"
    )
    row = {"id": "1", "calldate": "27.11.2026 15:42:07", "calltype": calltype, "src": src,
           "dst": dst, "duration": "12,5", "disposition": "ANSWERED"}  # fmt: skip
    store_records([parse_cdr_record(row)])

    stored = CallRecord.objects.get(pbx_id="1")
    assert stored.direction == live.direction.value
    assert stored.outside_number == (from_pbx(live.outside_number or "") or "")


@pytest.mark.parametrize(
    ("src", "dst", "direction", "outside", "e164"),
    [
        ("905321234567", "110", Direction.IN, "905321234567", "+905321234567"),
        ("101", "905321234567", Direction.OUT, "905321234567", "+905321234567"),
        ("101", "102", Direction.INTERNAL, None, ""),
        ("anonymous", "110", Direction.IN, "anonymous", ""),  # withheld: outside, no number
        ("905321234567", "905441112233", Direction.IN, "905321234567", "+905321234567"),
    ],
)
def test_the_outside_party_is_the_caller_inbound_and_the_callee_outbound(
    src, dst, direction, outside, e164
):
    assert direction_of(src, dst) is direction
    assert outside_party(direction, src, dst) == outside
    assert outside_number(src, dst) == e164


@pytest.mark.parametrize("direction", list(Direction))
def test_the_agents_side_is_the_other_party(direction):
    outside = outside_party(direction, "src", "dst")
    assert EXTENSION_FIELD[direction] != outside
    assert EXTENSION_FIELD[direction] in ("src", "dst")
