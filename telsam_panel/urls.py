"""Top-level URL map."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

admin.site.site_header = "Telsam Panel"
admin.site.site_title = "Telsam Panel"
admin.site.site_url = "/"


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links to. (The static URL is looked up per
    request: with hashed static files it exists only after collectstatic.)"""
    return redirect(static("img/favicon.svg"), permanent=True)


urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("favicon.ico", favicon),
    path("", include("calls.urls")),
]
