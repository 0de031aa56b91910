from __future__ import annotations

from django.contrib import admin

from calls.models import HangupAttempt


@admin.register(HangupAttempt)
class HangupAttemptAdmin(admin.ModelAdmin):
    """Read-only: an audit trail is not edited."""

    list_display = ["at", "username", "src", "dst", "result", "channel"]
    list_filter = ["result", "at"]
    search_fields = ["username", "channel", "src", "dst"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
