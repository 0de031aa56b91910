"""The JSON answers the panel's endpoints share: a refusal, a form's first problem, an unknown
call. Every error body is `{"ok": false, "error": <text in the page's language>}`."""

from __future__ import annotations

from django import forms
from django.http import JsonResponse
from django.utils.translation import gettext as _

from calls.work.rules import WorkRefused


def error(text: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "error": text}, status=status)


def refused(exc: WorkRefused) -> JsonResponse:
    return error(str(exc), exc.status)


def invalid(form: forms.Form) -> JsonResponse:
    """400 with the form's first problem."""
    return error(next(iter(form.errors.values()))[0], 400)


def unknown_call() -> JsonResponse:
    """404: no call has this key, live or in the database."""
    return error(_("This call is not known."), 404)
