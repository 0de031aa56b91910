from __future__ import annotations

from django.urls import path

from calls import views

app_name = "calls"

urlpatterns = [
    path("", views.panel, name="panel"),
    path("calls/hangup/", views.hangup, name="hangup"),
]
