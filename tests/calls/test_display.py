"""Durations read alike on every page, the browser's live rows included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calls.display import format_duration

SAMPLES = json.loads((Path(__file__).parents[1] / "duration_samples.json").read_text())["samples"]


@pytest.mark.parametrize(("seconds", "text"), SAMPLES)
def test_durations_read_as_in_the_browser(seconds, text):
    # static/js/format.js is held to the same table by tests/js/durations.test.mjs.
    assert format_duration(seconds) == text
