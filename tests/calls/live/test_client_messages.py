"""What a browser may send on the live socket (calls.live.client_messages): the shapes read as a
message type, and the allowance that bounds how often a resync is answered."""

from __future__ import annotations

import json

import pytest

from calls.live.client_messages import RESYNC, ResyncAllowance, message_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "resync"}', RESYNC),
        ('{"type": "hello", "extra": [1, 2]}', "hello"),
        ('{"type": 1}', None),
        ('{"kind": "resync"}', None),
        ('["resync"]', None),
        ('"resync"', None),
        ("null", None),
        ("not json", None),
        ("", None),
        (None, None),  # a binary frame
        ("[" * 200_000, None),
        ("[" * 3000 + "]" * 3000, None),
        (json.dumps({"type": "resync", "deep": [[[[[]]]]]}), RESYNC),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_a_message_is_read_as_its_type_or_none(text, expected):
    assert message_type(text) == expected


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_burst_is_answered_at_once_then_one_per_interval():
    clock = Clock()
    allowance = ResyncAllowance(burst=3, every=1.0, clock=clock)
    assert [allowance.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert allowance.take() == pytest.approx(1.0)
    clock.now += 0.25
    assert allowance.take() == pytest.approx(0.75)  # asking again does not push the answer back
    clock.now += 0.75
    assert allowance.take() == 0.0
    assert allowance.take() == pytest.approx(1.0)


def test_a_quiet_socket_gets_its_burst_back_but_no_more():
    clock = Clock()
    allowance = ResyncAllowance(burst=2, every=1.0, clock=clock)
    allowance.take(), allowance.take()
    clock.now += 3600  # an hour without a resync
    assert [allowance.take() for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
