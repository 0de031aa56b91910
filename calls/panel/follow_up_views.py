"""The follow-up endpoints the panel's scripts and the callbacks page call (docs/call-work.md,
"Follow-ups"). Thin: the rules are in calls.work.follow_ups."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from calls.access import LIVE_CALLS, SEE_CALLS, requires
from calls.panel.answers import refused, unknown_call
from calls.work.follow_ups import (
    MARK_DONE,
    SEE,
    SET,
    assignees,
    create_follow_up,
    display_name,
    due_follow_ups,
    follow_up_payload,
    mark_done,
    parse_due,
)
from calls.work.rules import WorkRefused
from calls.work.saving import tracked_call


# Setting one names the caller's number and customer: the live calls' permissions.
@requires(*LIVE_CALLS, SET, json=True)
@require_POST
def follow_up_create(request: HttpRequest, key: str) -> JsonResponse:
    """POST due_at=<ISO date and time>, assignee=<user id>, note=… → the new follow-up; 400 with
    the first problem, 404 for a call neither live nor in the database."""
    call = tracked_call(key)
    if call is None:
        return unknown_call()
    try:
        follow_up = create_follow_up(
            call,
            request.user,
            due_at=parse_due(request.POST.get("due_at", "")),
            assignee_id=request.POST.get("assignee", ""),
            note=request.POST.get("note", ""),
            now=timezone.now(),
        )
    except WorkRefused as exc:
        return refused(exc)
    return JsonResponse({"ok": True, "follow_up": follow_up_payload(follow_up)})


# One's own reminders: the caller's number and customer, so the live calls' permissions too.
@requires(*LIVE_CALLS, SEE, json=True)
@require_GET
def follow_ups_due(request: HttpRequest) -> JsonResponse:
    """GET → the current user's follow-ups that are due and not done, soonest first."""
    due = due_follow_ups(request.user, timezone.now())
    return JsonResponse({"ok": True, "follow_ups": [follow_up_payload(f) for f in due]})


# Whom one may assign to: names only, for whoever may set follow-ups.
@requires(SEE_CALLS, SET, json=True)
@require_GET
def follow_up_assignees(request: HttpRequest) -> JsonResponse:
    """GET → [{id, name}] of the users one may give a follow-up to."""
    people = [{"id": user.pk, "name": display_name(user)} for user in assignees()]
    return JsonResponse({"ok": True, "assignees": people})


@requires(SEE_CALLS, MARK_DONE, json=True)
@require_POST
def follow_up_done(request: HttpRequest, id: int) -> HttpResponse:
    """POST → marks it done (its assignee, or a supervisor): JSON for scripts; the callbacks
    page's form sends `back=1` and is sent back there with a message."""
    back = request.POST.get("back") == "1"
    try:
        mark_done(id, request.user, timezone.now())
    except WorkRefused as exc:
        if back:
            messages.error(request, str(exc))
            return redirect("calls:callbacks")
        return refused(exc)
    if back:
        messages.success(request, _("Follow-up marked as done."))
        return redirect("calls:callbacks")
    return JsonResponse({"ok": True})
