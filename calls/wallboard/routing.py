from __future__ import annotations

from django.urls import path

from calls.wallboard.consumer import DisplayConsumer, WallboardConsumer

websocket_urlpatterns = [
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
    # The token is what lets a screen in: any text is looked up (an unknown one is refused).
    path("ws/display/<str:token>/", DisplayConsumer.as_asgi()),
]
