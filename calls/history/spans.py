"""Spans of time in words, for logs, `manage.py doctor` and health: `3 d 2 h`, `40 s`."""

from __future__ import annotations

from datetime import timedelta


def in_words(delta: timedelta | None) -> str:
    """`3 d 2 h`, `1 h 5 min`, `40 s`; `unknown` for None."""
    if delta is None:
        return "unknown"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
