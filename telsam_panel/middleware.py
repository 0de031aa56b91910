"""Request middleware of the project."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpRequest, HttpResponse
from django.urls import resolve


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


class HealthProbeMiddleware:
    """Answer `/healthz` and `/healthz/data` whatever the Host header says.

    Probes rarely send the panel's own host name: compose's healthcheck asks
    `http://localhost:8000/healthz`, a load balancer asks by IP address. `CommonMiddleware` (and
    any later `request.get_host()`) would answer them 400 for a host outside `ALLOWED_HOSTS`, so
    the web server would always look unhealthy. These two views read no host, build no URL and
    set no cookie, so they are called here, before that check; every other path still gets it.
    (They stay `never_cache`, and their answers hold status words only unless the session is a
    staff member's, hence the user is looked up as `AuthenticationMiddleware` would.)
    """

    PATHS = ("/healthz", "/healthz/data")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.authentication = AuthenticationMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Probes only read: anything else goes the usual way (host, then CSRF checked).
        if request.method != "GET" or request.path_info not in self.PATHS:
            return self.get_response(request)
        self.authentication.process_request(request)
        return resolve(request.path_info).func(request)
