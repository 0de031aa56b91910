"""Pages of the calls app. Views stay thin: logic lives in service modules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def panel(request: HttpRequest) -> HttpResponse:
    """The live calls panel (the live table arrives with the websocket pipeline)."""
    return render(request, "calls/panel.html")
