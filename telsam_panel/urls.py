"""Top-level URL map."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from telsam_panel.views import healthz, healthz_data

admin.site.site_header = "Telsam Panel"
admin.site.site_title = "Telsam Panel"
admin.site.site_url = "/"


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links to. (The static URL is looked up per
    request: with hashed static files it exists only after collectstatic.)"""
    return redirect(static("img/favicon.svg"), permanent=True)


urlpatterns = [
    # Log in and out, and change one's own password. No password reset by e-mail: the panel sends
    # no mail, and an administrator sets a forgotten password in the admin.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("favicon.ico", favicon),
    path("healthz", healthz, name="healthz"),
    path("healthz/data", healthz_data, name="healthz-data"),
    path("", include("calls.urls")),
]
