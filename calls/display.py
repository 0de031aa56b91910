"""How a duration reads on every page (numbers: `customers.phones.display_number`).

The history, callbacks, statistics, the screen-pop and the customer's admin page write durations
this way (templates through `calls_display`); the live rows are drawn by the browser, whose
`static/js/format.js` does the same, held to one table of samples by the tests of both
(tests/duration_samples.json). Exports keep plain seconds (docs/exports.md)."""

from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """Seconds → `0:07`, `12:34` under an hour, `1:02:03` from an hour on. Fractions of a second
    are dropped, as the live clock drops them; a negative span reads `0:00`."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
