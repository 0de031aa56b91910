"""What a screen-pop shows about a caller: every customer behind the number, with details, and
their recent calls."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.display import format_duration
from calls.history.records import ANSWERED, timeline
from calls.models import CallRecord
from calls.work.follow_ups import follow_up_payload
from customers.models import Customer
from customers.phones import display_number, from_pbx

RECENT_CALLS = 5


def caller_card(raw_number: str) -> dict[str, Any]:
    """The screen-pop data for a number as the PBX sent it (see docs/websocket-protocol.md)."""
    e164 = from_pbx(raw_number)
    customers = (
        Customer.objects.filter(phones__number=e164)
        .order_by("-updated_at", "-id")
        .prefetch_related("phones")
        if e164
        else Customer.objects.none()
    )
    add_url = reverse("admin:customers_customer_add")
    customers = list(customers)
    history = (
        timeline([e164], customers[0].pk if customers else None, RECENT_CALLS) if e164 else None
    )
    return {
        "number": raw_number,
        "display": display_number(raw_number),
        "add_url": f"{add_url}?{urlencode({'phone': display_number(raw_number)})}",
        "customers": [
            {
                "id": customer.pk,
                "name": customer.name,
                "company": customer.company,
                "email": customer.email,
                "notes": customer.notes,
                "phones": [display_number(p.number) for p in customer.phones.all()],
                "url": customer.get_admin_url(),
            }
            for customer in customers
        ],
        "recent_calls": [recent_call(call) for call in history["recent"]] if history else [],
        "open_follow_ups": [follow_up_payload(f) for f in history["open_follow_ups"]]
        if history
        else [],
        "summary": _("Called %(calls)d times today, %(unanswered)d unanswered.") % history["today"]
        if history
        else "",
    }


def recent_call(call: CallRecord) -> dict:
    """A line of the caller's history, with the agent's note, wrap-up code and follow-ups."""
    work = call.work
    code = work.wrap_up if work else None
    return {
        "text": describe(call),
        "note": work.note if work else "",
        "wrap_up": {"name": code.name, "colour": code.colour} if code else None,
        "follow_ups": [follow_up_payload(f) for f in call.follow_ups],
    }


def describe(call: CallRecord) -> str:
    """One line of a caller's history: when, which way, how it ended, how long."""
    result = _("answered") if call.disposition == ANSWERED else _("not answered")
    local = timezone.localtime(call.calldate)
    return (
        f"{local:%d.%m %H:%M} · {call.get_direction_display()} · {result} · "
        f"{format_duration(call.duration)}"
    )
