"""The one way a call's work is saved: permission checked, every change recorded.

An agent's note is saved as they type (the page sends it a second after they stop), so changes by
the same person within `COALESCE` of each other are one change: the history of a note reads as
its versions, not as its keystrokes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from calls.history.tracked_calls import tracked_call_of
from calls.live.snapshot import read_snapshot
from calls.models import CallWork, CallWorkChange, TrackedCall, WrapUpCode
from calls.work.rules import WorkRefused, code_required, may_write

COALESCE = timedelta(minutes=1)
MAX_NOTE_CHARS = 5000

KEEP = object()  # "leave the wrap-up code as it is" (None clears it)


def tracked_call(key: str) -> TrackedCall | None:
    """The call of this key. A live call the database has no row for yet (the poll notes calls
    after its broadcast, and a database outage may have kept it from noting one) is noted now:
    an agent typing while the phone rings must not lose the note."""
    found = TrackedCall.objects.filter(key=key).first()
    if found is not None:
        return found
    state = read_snapshot()
    live = next((c for c in state.calls.values() if c.key == key), None) if state else None
    if live is None:
        return None
    call = tracked_call_of(live)
    try:
        with transaction.atomic():
            call.save(force_insert=True)
    except IntegrityError:  # the poll noted it meanwhile
        return TrackedCall.objects.filter(key=key).first()
    return call


def save_work(
    call: TrackedCall,
    user,
    *,
    note: str | None = None,
    wrap_up: WrapUpCode | object | None = KEEP,
    finish: bool = False,
    now: datetime,
) -> CallWork:
    """Save what is given of the call's work (`note` None: unchanged); `finish` also ends its
    wrap-up, which needs a wrap-up code when the call's queue requires one. Raises WorkRefused."""
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise WorkRefused(
            _("A note has at most %(count)d characters.") % {"count": MAX_NOTE_CHARS}, 400
        )
    required = code_required(call)
    with transaction.atomic():
        # The call's row, locked, serialises saves of its work: two first saves at once (two
        # tabs) would otherwise both create it.
        TrackedCall.objects.select_for_update().filter(pk=call.pk).values_list("pk").get()
        work = CallWork.objects.select_related("wrap_up").filter(call=call).first()
        if not may_write(user, call, work, now):
            raise WorkRefused(_("You may not change the note of this call."), 403)
        if work is None:
            work = CallWork(call=call, author=user, author_name=user.get_username(), created_at=now)
        before = (work.note, _name(work.wrap_up))
        if note is not None:
            work.note = note
        if wrap_up is not KEEP:
            work.wrap_up = wrap_up
        if finish:
            if required and work.wrap_up is None:
                raise WorkRefused(_("Calls of this queue need a wrap-up code."), 400)
            work.wrapped_up_at = now
        after = (work.note, _name(work.wrap_up))
        if work.pk is None or after != before or finish:
            work.updated_at = now
            work.save()
        if after != before:
            _record(work, user, before, after, now)
    return work


def _name(code: WrapUpCode | None) -> str:
    return code.name_tr if code is not None else ""


def _record(work: CallWork, user, before: tuple[str, str], after: tuple[str, str], now) -> None:
    last = work.changes.order_by("-at", "-pk").first()
    if last is not None and last.user_id == user.pk and now - last.at <= COALESCE:
        last.note_after, last.wrap_up_after, last.at = after[0], after[1], now
        last.save(update_fields=["note_after", "wrap_up_after", "at"])
        return
    CallWorkChange.objects.create(
        work=work,
        user=user,
        username=user.get_username(),
        at=now,
        note_before=before[0],
        wrap_up_before=before[1],
        note_after=after[0],
        wrap_up_after=after[1],
    )
