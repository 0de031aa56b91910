"""Request middleware of the project."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class TurkishUnlessChosenMiddleware:
    """Ignore the browser's Accept-Language so the UI is Turkish until the user picks English.

    Call-centre PCs often run English-language browsers; the panel's language is the team's, not
    the browser's. An explicit choice (the language switch, stored in a cookie) still wins, since
    Django's LocaleMiddleware reads the cookie before the header this removes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
