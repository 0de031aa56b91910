"""Request middleware of the project."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
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


class ContentSecurityPolicyMiddleware:
    """Send `settings.CONTENT_SECURITY_POLICY` with every response that has none of its own.

    Django 5.2 has no CSP support of its own and the policy is one fixed header (no nonces: the
    pages have no inline scripts or styles), so this is all it takes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
