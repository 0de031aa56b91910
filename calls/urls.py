from __future__ import annotations

from django.urls import path

from calls.history import views as history_views
from calls.panel import views

app_name = "calls"

urlpatterns = [
    path("", views.panel, name="panel"),
    path("profile/", views.profile, name="profile"),
    path("calls/caller/", views.caller, name="caller"),
    path("calls/hangup/", views.hangup, name="hangup"),
    path("history/", history_views.history, name="history"),
    path("callbacks/", history_views.callbacks, name="callbacks"),
    path("callbacks/done/", history_views.callback_done, name="callback-done"),
    path("stats/", history_views.stats, name="stats"),
]
