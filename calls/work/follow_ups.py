"""Follow-ups: "call this caller back at …", set on a call for oneself or a colleague, with a
reminder on the assignee's panel once it is due (docs/call-work.md, "Follow-ups").

The number is the call's outside party (calls.pbx.parties), so a follow-up is always for someone
outside; who may be given one is whoever holds the role, so nobody is assigned a reminder their
panel could never show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.access import SEE_CALLS
from calls.models import FollowUp, TrackedCall
from calls.pbx.parties import outside_number
from calls.work.rules import CHANGE_ANY, WorkRefused
from customers.linking import customers_for_numbers
from customers.phones import display_number

SET = "calls.add_followup"
SEE = "calls.view_followup"
MARK_DONE = "calls.change_followup"
# An assignee must be able to see the reminder and mark it done.
ASSIGNEE_PERMISSIONS = (SEE_CALLS, SEE, MARK_DONE)
MAX_AHEAD = timedelta(days=365)
MAX_NOTE_CHARS = 300
DUE_SHOWN = 50


def parse_due(text: str) -> datetime:
    """An ISO date and time as the page sends it; without an offset it is the panel's local time
    (TIME_ZONE). Raises WorkRefused (400) for anything else."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WorkRefused(_("Give the time to call back as a date and time."), 400) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def assignees() -> QuerySet:
    """The active users one may give a follow-up to: those holding every permission of the role
    (through a group or their own), and superusers."""
    users = get_user_model().objects.filter(is_active=True)
    chosen = users.filter(Q(is_superuser=True) | Q(pk__in=_holding_all()))
    return chosen.order_by("first_name", "username")


def _holding_all() -> QuerySet:
    # One subquery per permission: the rule is "holds them all", possibly through several groups.
    users = get_user_model().objects.all()
    for name in ASSIGNEE_PERMISSIONS:
        app_label, codename = name.split(".")
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        holding = get_user_model().objects.filter(
            Q(groups__permissions__in=permission) | Q(user_permissions__in=permission)
        )
        users = users.filter(pk__in=holding.values("pk"))
    return users.values("pk")


def _row_id(value: int | str) -> int | None:
    """A database id from a form or URL, or None: a number too large for the column would make
    the database raise, not answer "no such row"."""
    text = str(value).strip()
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def create_follow_up(
    call: TrackedCall, user, *, due_at: datetime, assignee_id: int | str, note: str, now: datetime
) -> FollowUp:
    """A follow-up of `call` for the assignee, set by `user`. Raises WorkRefused: 403 without
    the permission, 400 for a due time not in the coming year, an assignee who may not take it,
    a note too long or a call with nobody outside to call back."""
    if not user.has_perms((SEE_CALLS, SET)):
        raise WorkRefused(_("You may not set follow-ups."), 403)
    if due_at <= now:
        raise WorkRefused(_("The time to call back must be in the future."), 400)
    if due_at > now + MAX_AHEAD:
        raise WorkRefused(_("The time to call back must be within a year."), 400)
    if len(note) > MAX_NOTE_CHARS:
        raise WorkRefused(
            _("A follow-up's note has at most %(count)d characters.") % {"count": MAX_NOTE_CHARS},
            400,
        )
    wanted = _row_id(assignee_id)
    assignee = assignees().filter(pk=wanted).first() if wanted is not None else None
    if assignee is None:
        raise WorkRefused(_("Choose a colleague who can take follow-ups."), 400)
    number = outside_number(call.src, call.dst)
    if not number:
        raise WorkRefused(_("This call has no outside number to call back."), 400)
    customer_id = customers_for_numbers([number]).get(number)
    return FollowUp.objects.create(
        call=call,
        number=number,
        customer_id=customer_id,
        due_at=due_at,
        assignee=assignee,
        created_by=user,
        note=note.strip(),
        created_at=now,
    )


def open_follow_ups() -> QuerySet:
    """Every follow-up not done yet, soonest first."""
    return FollowUp.objects.filter(done_at__isnull=True).select_related("assignee", "customer")


def due_follow_ups(user, now: datetime) -> list[FollowUp]:
    """`user`'s follow-ups that are due and not done, soonest first (the reminder's list)."""
    return list(open_follow_ups().filter(assignee=user, due_at__lte=now)[:DUE_SHOWN])


def mark_done(follow_up_id: int, user, now: datetime) -> FollowUp:
    """Mark the follow-up done: its assignee, or a supervisor (who may change anyone's call
    work). Done twice is done once. Raises WorkRefused (404, 403)."""
    with transaction.atomic():
        wanted = _row_id(follow_up_id)
        follow_up = (
            FollowUp.objects.select_for_update().filter(pk=wanted).first() if wanted else None
        )
        if follow_up is None:
            raise WorkRefused(_("This follow-up is not known."), 404)
        mine = follow_up.assignee_id == user.pk and user.has_perm(MARK_DONE)
        if not (mine or user.has_perms((MARK_DONE, CHANGE_ANY))):
            raise WorkRefused(_("Only its assignee or a supervisor marks it done."), 403)
        if follow_up.done_at is None:
            follow_up.done_at, follow_up.done_by = now, user
            follow_up.save(update_fields=["done_at", "done_by"])
    return follow_up


def follow_up_payload(follow_up: FollowUp) -> dict:
    """A follow-up as the page's scripts receive it."""
    return {
        "id": follow_up.pk,
        "number": follow_up.number,
        "number_display": display_number(follow_up.number),
        "customer": follow_up.customer.name if follow_up.customer else None,
        "due_at": follow_up.due_at.isoformat(),
        "assignee": display_name(follow_up.assignee),
        "note": follow_up.note,
        "done": follow_up.done_at is not None,
    }
