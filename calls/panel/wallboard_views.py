"""The wallboard's pages: `/wallboard/` for users who may see it, in the site's frame or as a TV
(`?tv=1`), and `/display/<token>/` for a screen with a display link and no login. The pages are
static; the figures arrive over the wallboard's websockets (docs/websocket-protocol.md)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache

from calls.access import SEE_WALLBOARD, requires
from calls.wallboard.display_links import link_for_token

THEMES = ("dark", "light")
WALLBOARD_WS_PATH = "/ws/wallboard/"
DISPLAY_WS_PATH = "/ws/display/{token}/"


def _config(request: HttpRequest, *, ws_path: str, tv: bool, login_url: str) -> dict:
    theme = request.GET.get("theme", "")
    return {
        "wsPath": ws_path,
        "pollInterval": settings.TELSAM_POLL_INTERVAL,
        "language": get_language(),
        "tv": tv,
        # Empty: the browser's own preference (prefers-color-scheme) decides.
        "theme": theme if theme in THEMES else "",
        "loginUrl": login_url,
    }


@requires(SEE_WALLBOARD)
def wallboard(request: HttpRequest) -> HttpResponse:
    """The board inside the site's page, or (`?tv=1`, `&theme=dark|light`) alone on the screen."""
    tv = request.GET.get("tv") == "1"
    page = reverse("calls:wallboard")
    config = _config(
        request, ws_path=WALLBOARD_WS_PATH, tv=tv, login_url=f"{reverse('login')}?next={page}"
    )
    template = "calls/wallboard_tv.html" if tv else "calls/wallboard.html"
    return render(request, template, {"config": config})


@never_cache
def display(request: HttpRequest, token: str) -> HttpResponse:
    """A display link's TV board: no login, the link's token is the key. Unknown or revoked: a
    bare 404 that says nothing about which."""
    if link_for_token(token, timezone.now()) is None:
        response: HttpResponse = HttpResponseNotFound("Not Found", content_type="text/plain")
        # Django logs every 4xx with its path, which here is the token: the web server's access
        # log is the one place it may appear.
        response._has_been_logged = True  # type: ignore[attr-defined]
    else:
        config = _config(
            request, ws_path=DISPLAY_WS_PATH.format(token=token), tv=True, login_url=""
        )
        response = render(request, "calls/wallboard_tv.html", {"config": config, "display": True})
    # The token is in this page's URL: no link or request from it may carry it elsewhere.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
