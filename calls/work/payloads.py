"""A call's work as the page's scripts receive it (docs/call-work.md)."""

from __future__ import annotations

from datetime import datetime

from calls.models import CallWork, TrackedCall, WrapUpCode
from calls.work.rules import code_required, may_write


def code_payload(code: WrapUpCode) -> dict:
    return {"id": code.pk, "name": code.name, "colour": code.colour}


def work_payload(call: TrackedCall, work: CallWork | None, user, now: datetime) -> dict:
    """The call's work, whether `user` may change it, and the codes to pick from."""

    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    codes = WrapUpCode.objects.filter(active=True)
    return {
        "key": call.key.hex,
        "note": work.note if work else "",
        "wrap_up": code_payload(work.wrap_up) if work and work.wrap_up else None,
        "author": work.author_name if work else None,
        "written_at": iso(work.created_at) if work else None,
        "changed_at": iso(work.updated_at) if work else None,
        "wrapped_up_at": iso(work.wrapped_up_at) if work else None,
        "may_write": may_write(user, call, work, now),
        "code_required": code_required(call),
        "codes": [code_payload(code) for code in codes],
    }
