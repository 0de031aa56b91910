"""Who may open what: the model permissions behind each page, endpoint and the live websocket.

Roles are groups (calls/migrations/0002_roles.py); a view declares what it shows with `requires`,
the one place its rule is written. The live websocket and its periodic session check use
`LIVE_CALLS` too. The role → capability table is in docs/roles.md.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

# Calls, live or finished: numbers, extensions, queues, times.
SEE_CALLS = "calls.view_callrecord"
# Who is behind a number: name, company, e-mail, notes.
SEE_CUSTOMERS = "customers.view_customer"
SEE_STATS = "calls.view_stats"
# The supervisors' wallboard: every queue's figures and every extension's state, live.
SEE_WALLBOARD = "calls.view_wallboard"
# Live calls carry the customer matched to each caller, so they need both.
LIVE_CALLS = (SEE_CALLS, SEE_CUSTOMERS)

View = Callable[..., HttpResponse]


def requires(*permissions: str, json: bool = False) -> Callable[[View], View]:
    """The view answers only a logged-in user holding every one of `permissions`.

    An anonymous visitor is sent to the login page; anyone else without the permissions gets 403.
    An endpoint the page's scripts call (`json`) answers both with a 403 JSON error instead, which
    a script can show. The permissions are kept on the view (`required_permissions`) so templates
    can hide links a user cannot open (calls.templatetags.calls_access).
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                if json:
                    return JsonResponse({"ok": False, "error": _("Please log in.")}, status=403)
                return redirect_to_login(request.get_full_path())
            if not user.has_perms(permissions):
                if json:
                    return JsonResponse(
                        {"ok": False, "error": _("You are not allowed to do this.")}, status=403
                    )
                raise PermissionDenied
            return view(request, *args, **kwargs)

        checked.required_permissions = permissions  # type: ignore[attr-defined]
        return checked

    return decorate
