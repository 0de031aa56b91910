"""Pages and endpoints of the calls app. Views stay thin: logic lives in service modules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.hangup import hangup_call
from calls.models import HangupAttempt


@login_required
def panel(request: HttpRequest) -> HttpResponse:
    """The live calls panel."""
    return render(request, "calls/panel.html")


_HANGUP_STATUS = {
    HangupAttempt.Result.OK: 200,
    HangupAttempt.Result.FORBIDDEN: 403,
    HangupAttempt.Result.NOT_FOUND: 404,
    HangupAttempt.Result.PBX_ERROR: 502,
}


@require_POST
def hangup(request: HttpRequest) -> JsonResponse:
    """POST channel=… → {"ok": true} or {"ok": false, "error": "…"} with 403/404/502."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "error": _("Please log in.")}, status=403)
    channel = request.POST.get("channel", "")
    if not channel:
        return JsonResponse({"ok": False, "error": _("No channel given.")}, status=400)
    attempt = hangup_call(request.user, channel)
    if attempt.result == HangupAttempt.Result.OK:
        return JsonResponse({"ok": True})
    messages = {
        HangupAttempt.Result.FORBIDDEN: _("You are not allowed to hang up calls."),
        HangupAttempt.Result.NOT_FOUND: _("This call is no longer active."),
        HangupAttempt.Result.PBX_ERROR: _("The PBX refused: %(reason)s")
        % {"reason": attempt.pbx_answer},
    }
    return JsonResponse(
        {"ok": False, "error": messages[attempt.result]}, status=_HANGUP_STATUS[attempt.result]
    )
