from __future__ import annotations

from django.urls import path, register_converter

from calls.history import views as history_views
from calls.panel import follow_up_views, views, wallboard_views
from calls.wallboard.display_links import DISPLAY_PATH


class CallKeyConverter:
    """A call's lasting key: 32 lower-case hex digits (calls.live.diff.new_call_key)."""

    regex = "[0-9a-f]{32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CallKeyConverter, "call_key")

# "display/<str:token>/", from the one place a display link's path is written.
DISPLAY_ROUTE = DISPLAY_PATH.lstrip("/").replace("{token}", "<str:token>")

app_name = "calls"

urlpatterns = [
    path("", views.panel, name="panel"),
    path("profile/", views.profile, name="profile"),
    path("calls/caller/", views.caller, name="caller"),
    path("calls/caller/customer/", views.add_caller, name="add-caller"),
    path("calls/hangup/", views.hangup, name="hangup"),
    path("calls/<call_key:key>/work/", views.call_work, name="call-work"),
    path(
        "calls/<call_key:key>/follow-up/",
        follow_up_views.follow_up_create,
        name="follow-up-create",
    ),
    path("follow-ups/due/", follow_up_views.follow_ups_due, name="follow-ups-due"),
    path("follow-ups/assignees/", follow_up_views.follow_up_assignees, name="follow-up-assignees"),
    path("follow-ups/<int:id>/done/", follow_up_views.follow_up_done, name="follow-up-done"),
    path("history/", history_views.history, name="history"),
    path("callbacks/", history_views.callbacks, name="callbacks"),
    path("callbacks/done/", history_views.callback_done, name="callback-done"),
    path("stats/", history_views.stats, name="stats"),
    path("wallboard/", wallboard_views.wallboard, name="wallboard"),
    # Any token up to a slash reaches the view, so a malformed one gets the same plain 404.
    path(DISPLAY_ROUTE, wallboard_views.display, name="display"),
]
