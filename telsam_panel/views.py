"""Project-level endpoints that belong to no app."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from telsam_panel.health import check_all


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and container healthchecks: no login, no secrets; 503 when unhealthy
    (database or Redis unreachable, or no successful PBX poll for a few intervals)."""
    health = check_all()
    return JsonResponse(health.as_dict(), status=200 if health.ok else 503)
