"""Logging in: django-axes' lockout, fitted to the panel."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins made through a request.

    The lockout is kept per username and client address, so it needs a request. Every login form
    (the panel's and the admin's) passes one; `authenticate()` without a request comes from code on
    the server (a shell, a management command, a test), where there is nothing to lock out, and
    axes would refuse it with an error instead of letting the next backend check the password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page a locked-out login gets, panel or admin: what happened and for how long (429)."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": round(cool_off.total_seconds() / 60) if cool_off else 0,
    }
    return render(request, "registration/locked_out.html", context, status=429)
