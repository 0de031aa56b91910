"""Project-level endpoints that belong to no app."""

from __future__ import annotations

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from telsam_panel.health import Report, data_health, may_see_details, web_health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and container healthchecks: this web process can serve (its database
    and Redis answer), 200, or not, 503. The PBX and the poller play no part (`healthz_data`)."""
    return _answer(request, web_health())


@never_cache
@require_GET
def healthz_data(request: HttpRequest) -> JsonResponse:
    """For monitoring: the live calls and the call history are fresh (the poller runs, the PBX
    answers, the CDR sync succeeds), 200, or not, 503."""
    return _answer(request, data_health())


def _answer(request: HttpRequest, report: Report) -> JsonResponse:
    return JsonResponse(
        report.as_dict(details=_details_allowed(request)), status=200 if report.ok else 503
    )


def _details_allowed(request: HttpRequest) -> bool:
    """Status words for anyone; details for staff with the permission. A load balancer sends no
    session; a browser's session is read from the database, which may be the part that is down."""
    try:
        return may_see_details(request.user)
    except DatabaseError:
        return False
