"""Pages and endpoints of the calls app. Views stay thin: logic lives in service modules."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calls.access import LIVE_CALLS, SEE_CALLS, SEE_WALLBOARD, requires
from calls.models import AgentProfile, CallWork, HangupAttempt
from calls.panel.answers import invalid, refused, unknown_call
from calls.panel.caller_card import caller_card
from calls.panel.forms import AgentProfileForm, CallerCustomerForm, CallWorkForm
from calls.panel.hangup import HANGUP_PERMISSION, hangup_call
from calls.panel.wallboard_views import WALLBOARD_WS_PATH
from calls.pbx import is_valid_channel
from calls.work.payloads import work_payload
from calls.work.rules import MAY_WRITE, WorkRefused
from calls.work.saving import KEEP, save_work, tracked_call
from customers.models import customer_admin_url
from customers.services import customer_create

POP_ALL_PERMISSION = "calls.pop_all_calls"
ADD_CUSTOMER_PERMISSION = "customers.add_customer"
logger = logging.getLogger(__name__)


@requires(*LIVE_CALLS)
def panel(request: HttpRequest) -> HttpResponse:
    """The live calls panel: the page is static; the calls arrive over the websocket."""
    profile, _created = AgentProfile.objects.get_or_create(user=request.user)
    config = {
        "wsPath": "/ws/calls/",
        "pollInterval": settings.TELSAM_POLL_INTERVAL,
        "extensions": profile.extension_list,
        "popAll": profile.pop_all_calls and request.user.has_perm(POP_ALL_PERMISSION),
        "canHangup": request.user.has_perm(HANGUP_PERMISSION),
        "hangupUrl": reverse("calls:hangup"),
        "callerUrl": reverse("calls:caller"),
        "canAddCustomer": request.user.has_perm(ADD_CUSTOMER_PERMISSION),
        "addCallerUrl": reverse("calls:add-caller"),
        # The call's key replaces the zeros (a URL the page can build for any call).
        "workUrl": reverse("calls:call-work", args=["0" * 32]),
        # The rows' Note button; the server checks again on every save.
        "canWriteWork": request.user.has_perms(MAY_WRITE),
        "wrapUpSeconds": settings.TELSAM_WRAPUP_CARD_SECONDS,
        "loginUrl": f"{reverse('login')}?next={reverse('calls:panel')}",
        "userId": request.user.pk,
        # Follow-ups (docs/call-work.md): set from a pop, reminders polled when due. The key
        # replaces the zeros, the follow-up's id the 0.
        "canSetFollowUp": request.user.has_perm("calls.add_followup"),
        "seesFollowUps": request.user.has_perms(("calls.view_followup", "calls.change_followup")),
        "followUpUrl": reverse("calls:follow-up-create", args=["0" * 32]),
        "followUpAssigneesUrl": reverse("calls:follow-up-assignees"),
        "followUpsDueUrl": reverse("calls:follow-ups-due"),
        "followUpDoneUrl": reverse("calls:follow-up-done", args=[0]),
        "followUpCheckSeconds": settings.TELSAM_FOLLOW_UP_CHECK_SECONDS,
        # A supervisor's panel also hears the wallboard's queue alerts (notifications only).
        "canSeeWallboard": request.user.has_perm(SEE_WALLBOARD),
        "wallboardWsPath": WALLBOARD_WS_PATH,
    }
    return render(request, "calls/panel.html", {"config": config, "profile": profile})


# The settings are those of the live panel's screen-pops.
@requires(*LIVE_CALLS)
def profile(request: HttpRequest) -> HttpResponse:
    """An agent's own settings: their extensions (and, for supervisors, pops for all calls)."""
    agent_profile, _created = AgentProfile.objects.get_or_create(user=request.user)
    form = AgentProfileForm(
        request.POST or None,
        instance=agent_profile,
        can_pop_all=request.user.has_perm(POP_ALL_PERMISSION),
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your settings were saved."))
        return redirect("calls:panel")
    return render(request, "calls/profile.html", {"form": form})


# The card shows the customers behind a number and their recent calls.
@requires(*LIVE_CALLS)
@require_GET
def caller(request: HttpRequest) -> JsonResponse:
    """GET ?number=905321234567 → who is calling (for the screen-pop card)."""
    return JsonResponse(caller_card(request.GET.get("number", "")[:64]))


_HANGUP_STATUS = {
    HangupAttempt.Result.OK: 200,
    HangupAttempt.Result.FORBIDDEN: 403,
    HangupAttempt.Result.NOT_FOUND: 404,
    HangupAttempt.Result.PBX_ERROR: 502,
}


# Logged in only: the permission (calls.hangup_call) is checked by `hangup_call` itself, which
# records every refused attempt in the audit trail.
@requires(json=True)
@require_POST
def hangup(request: HttpRequest) -> JsonResponse:
    """POST channel=… → {"ok": true} or {"ok": false, "error": "…"} with 400/403/404/502/503."""
    channel = request.POST.get("channel", "")
    if not channel:
        return JsonResponse({"ok": False, "error": _("No channel given.")}, status=400)
    try:
        attempt = hangup_call(request.user, channel)
    except DatabaseError:  # the audit trail cannot be written, so the PBX was not asked
        logger.exception("Hang-up refused: its audit row could not be written")
        error = _("The hang-up cannot be recorded right now, so the call was not ended.")
        return JsonResponse({"ok": False, "error": error}, status=503)
    if attempt.result == HangupAttempt.Result.OK:
        return JsonResponse({"ok": True})
    if attempt.result == HangupAttempt.Result.NOT_FOUND and not is_valid_channel(channel):
        # Recorded all the same: a forged channel is worth an entry in the audit trail.
        return JsonResponse({"ok": False, "error": _("This is not a channel name.")}, status=400)
    errors = {
        HangupAttempt.Result.FORBIDDEN: _("You are not allowed to hang up calls."),
        HangupAttempt.Result.NOT_FOUND: _("This call is no longer active."),
        HangupAttempt.Result.PBX_ERROR: _("The PBX refused: %(reason)s")
        % {"reason": attempt.pbx_answer.splitlines()[0] if attempt.pbx_answer else ""},
    }
    return JsonResponse(
        {"ok": False, "error": errors[attempt.result]}, status=_HANGUP_STATUS[attempt.result]
    )


@requires(SEE_CALLS, json=True)
@require_http_methods(["GET", "POST"])
def call_work(request: HttpRequest, key: str) -> JsonResponse:
    """GET → the call's note and wrap-up code; POST note=…, wrap_up=<id or empty>, finish=1 →
    saves what is sent (docs/call-work.md). 400 for a bad field, 403 when the user may not
    change it, 404 for a call neither live nor in the database."""
    call = tracked_call(key)
    if call is None:
        return unknown_call()
    now = timezone.now()
    if request.method == "POST":
        form = CallWorkForm(request.POST)
        if not form.is_valid():
            return invalid(form)
        try:
            work = save_work(
                call,
                request.user,
                note=form.cleaned_data["note"] if "note" in request.POST else None,
                wrap_up=form.cleaned_data["wrap_up"] if "wrap_up" in request.POST else KEEP,
                finish=form.cleaned_data["finish"],
                now=now,
            )
        except WorkRefused as exc:
            return refused(exc)
    else:
        work = CallWork.objects.filter(call=call).select_related("wrap_up").first()
    return JsonResponse({"ok": True, **work_payload(call, work, request.user, now)})


@requires(*LIVE_CALLS, ADD_CUSTOMER_PERMISSION, json=True)
@require_POST
def add_caller(request: HttpRequest) -> JsonResponse:
    """POST number=<as the PBX sent it>, name, company, notes → the new customer; the live calls
    show it within a poll (calls.live.rematch). 400 with the first problem."""
    form = CallerCustomerForm(request.POST)
    if not form.is_valid():
        return invalid(form)
    data = form.cleaned_data
    customer = customer_create(
        name=data["name"], company=data["company"], notes=data["notes"], phones=[data["number"]]
    )
    return JsonResponse(
        {
            "ok": True,
            "customer": {
                "id": customer.pk,
                "name": customer.name,
                "company": customer.company,
                "url": customer_admin_url(customer.pk),
            },
        }
    )
