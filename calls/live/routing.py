from __future__ import annotations

from django.urls import path

from calls.live.consumer import LiveCallsConsumer

websocket_urlpatterns = [
    path("ws/calls/", LiveCallsConsumer.as_asgi()),
]
