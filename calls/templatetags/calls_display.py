"""`{{ record.src|phone }}` and `{{ record.duration|duration }}`: numbers and durations on every
page as the live panel writes them (`customers.phones.display_number`, `calls.display`)."""

from __future__ import annotations

from django import template

from calls.display import format_duration
from customers.phones import display_number

register = template.Library()


@register.filter
def phone(number: str) -> str:
    """A number as the PBX or the database holds it → `0532 123 45 67`; extensions as they are."""
    return display_number(number) if number else ""


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds → `m:ss`, or `h:mm:ss` from an hour on."""
    return format_duration(seconds or 0)
