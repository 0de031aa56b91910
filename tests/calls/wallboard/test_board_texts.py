"""The board's text, spliced from the queue rows' and tiles' texts the last board encoded: the
same text as a board encoded afresh, poll after poll."""

from __future__ import annotations

import json

import pytest

from calls.wallboard import live_board, observe
from calls.wallboard.board_config import BoardConfig
from calls.wallboard.display_links import mask_number
from tests.support.wallboard_polls import (
    AYSE,
    IST,
    MEHMET,
    at,
    play,
    queued,
    ringing,
    talking,
)

CONFIG = BoardConfig(queues=("630",), names={"630": "Satış"}, agents={"101": "Ayşe Ajan"})
CUSTOMERS = {}


@pytest.fixture(autouse=True)
def _no_remembered_texts(monkeypatch):
    monkeypatch.setattr(live_board, "_queue_texts", {})
    monkeypatch.setattr(live_board, "_tile_texts", {})
    monkeypatch.setattr(live_board, "_last_rows", None)


def afresh(state, now) -> tuple[str, str]:
    saved = live_board._queue_texts, live_board._tile_texts, live_board._last_rows
    live_board._queue_texts, live_board._tile_texts, live_board._last_rows = {}, {}, None
    try:
        return live_board.board_texts(state, now, CONFIG, CUSTOMERS)
    finally:
        live_board._queue_texts, live_board._tile_texts, live_board._last_rows = saved


def test_each_poll_s_board_is_the_board_encoded_afresh():
    polls = [
        (0, [queued("c1", "630"), ringing("c2", None, "102", MEHMET)], True),
        (2, [talking("c1", "630", "101"), ringing("c2", None, "102", MEHMET)], True),
        (4, [talking("c1", "630", "101"), talking("c2", None, "102", MEHMET)], True),
        (6, [talking("c1", "630", "102")], True),
        (8, [], False),
        (10, [], True),
    ]
    played, state = None, None
    for t, calls, ok in polls:
        played = play([(t, calls, ok)], start=played)  # for the live calls, as the poll has them
        # Observed in place, as the wallboard follows the polls.
        observed = observe(state, at(t), played.live.values(), pbx_ok=ok, tz=IST, in_place=True)
        state = observed.state
        texts = live_board.board_texts(state, at(t), CONFIG, CUSTOMERS, touched=observed.extensions)
        assert texts == afresh(state, at(t))
    full, masked = (json.loads(text) for text in texts)
    assert [tile["extension"] for tile in full["extensions"]] == ["101", "102"]
    assert full["queues"][0]["name"] == "Satış" and masked["queues"] == full["queues"]


def test_a_display_link_s_tiles_are_masked():
    played = play([(-2, [], True), (0, [talking("c1", "630", "101")], True)])
    full, masked = (
        json.loads(text)
        for text in live_board.board_texts(
            played.state, at(1), CONFIG, {played.keys["c1"]: "Ayşe Yılmaz"}
        )
    )
    [tile], [shown] = full["extensions"], masked["extensions"]
    assert (tile["customer"], tile["party"], tile["name"]) == ("Ayşe Yılmaz", AYSE, "Ayşe Ajan")
    assert (shown["customer"], shown["party"], shown["call_key"]) == (None, None, None)
    assert shown["party_display"] == mask_number(tile["party_display"])
