"""Today's calls per queue in the CDR: the one query behind the wallboard's correction."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from calls.models import CallRecord
from calls.wallboard import QueueCounts
from calls.wallboard.cdr_counts import cdr_queue_counts
from tests.support.wallboard_polls import AYSE, IST

pytestmark = pytest.mark.django_db

DAY_START = datetime(2026, 12, 1, tzinfo=IST)
_ids = itertools.count(1)


def record(calldate: datetime, queue: str, disposition: str) -> None:
    CallRecord.objects.create(
        pbx_id=str(next(_ids)), calldate=calldate, direction="in", src=AYSE, dst="101",
        outside_number="+" + AYSE, duration=30, disposition=disposition, queue=queue,
    )  # fmt: skip


def test_it_counts_each_queue_s_calls_of_the_local_day_answered_or_not():
    record(DAY_START, "630", "ANSWERED")  # the first second of the day
    record(DAY_START + timedelta(hours=9), "630", "ANSWERED")
    record(DAY_START + timedelta(hours=10), "630", "NO ANSWER")
    record(DAY_START + timedelta(hours=11), "630", "BUSY")
    record(DAY_START + timedelta(hours=12), "640", "NO ANSWER")
    record(DAY_START + timedelta(hours=12), "", "ANSWERED")  # in no queue
    record(DAY_START - timedelta(seconds=1), "630", "ANSWERED")  # yesterday, local time
    record(DAY_START + timedelta(days=1), "630", "ANSWERED")  # tomorrow
    assert cdr_queue_counts(DAY_START) == {
        "630": QueueCounts(offered=4, answered=2, abandoned=2),
        "640": QueueCounts(offered=1, answered=0, abandoned=1),
    }


def test_a_day_without_queue_calls_has_no_counts():
    record(DAY_START + timedelta(hours=9), "", "ANSWERED")
    assert cdr_queue_counts(DAY_START) == {}
