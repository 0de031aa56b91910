from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calls.history.records import timeline
from calls.models import (
    DisplayLink,
    FollowUp,
    HangupAttempt,
    WallboardQueue,
    WrapUpCode,
    WrapUpQueue,
)
from calls.wallboard.display_links import display_path, issue, revoke
from calls.work.follow_ups import MARK_DONE
from calls.work.rules import CHANGE_ANY
from customers.admin import CustomerAdmin
from customers.models import Customer


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


@admin.register(WrapUpCode)
class WrapUpCodeAdmin(admin.ModelAdmin):
    """The codes agents file calls under. A code calls carry cannot be deleted: deactivate it."""

    list_display = ["name_tr", "name_en", "colour", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["active"]
    search_fields = ["name_tr", "name_en"]


@admin.register(WrapUpQueue)
class WrapUpQueueAdmin(admin.ModelAdmin):
    """Queues whose calls need a wrap-up code before their wrap-up is done."""

    list_display = ["queue", "code_required"]
    list_editable = ["code_required"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    """Every follow-up, to search and filter. They are set on a call, in the panel; here only a
    supervisor may change one (its assignee marks theirs done on the panel or /callbacks/), so the
    rule of who may change whose follow-up stays the panel's."""

    list_display = ["due_at", "number", "customer", "assignee", "note", "created_by", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter), "assignee", "due_at"]
    search_fields = ["number", "note", "customer__name"]
    date_hierarchy = "due_at"
    list_select_related = ["customer", "assignee", "created_by"]
    raw_id_fields = ["call", "customer"]
    readonly_fields = ["call", "number", "created_by", "created_at", "done_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perms((MARK_DONE, CHANGE_ANY))


LEVELS = [
    "waiting_amber",
    "waiting_red",
    "longest_wait_amber",
    "longest_wait_red",
    "service_level_amber",
    "service_level_red",
]


@admin.register(WallboardQueue)
class WallboardQueueAdmin(admin.ModelAdmin):
    """Each queue's label, service level target and the levels at which its wallboard tile turns
    amber or red (docs/wallboard-setup.md). Administrators only, as no role is granted it."""

    list_display = ["queue", "name", "service_level_seconds", *LEVELS]
    list_editable = ["name", "service_level_seconds", *LEVELS]
    search_fields = ["queue", "name"]
    fieldsets = [
        (None, {"fields": ["queue", "name", "service_level_seconds"]}),
        (_("Calls waiting"), {"fields": ["waiting_amber", "waiting_red"]}),
        (_("Longest wait"), {"fields": ["longest_wait_amber", "longest_wait_red"]}),
        (_("Service level"), {"fields": ["service_level_amber", "service_level_red"]}),
    ]


@admin.action(description=_("Revoke the selected display links"))
def revoke_display_links(modeladmin, request, queryset) -> None:
    now = timezone.now()
    revoked = sum(revoke(link, request.user, now) for link in queryset)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d display link revoked: its screens close within seconds.",
            "%(count)d display links revoked: their screens close within seconds.",
            revoked,
        )
        % {"count": revoked},
        messages.SUCCESS,
    )


@admin.register(DisplayLink)
class DisplayLinkAdmin(admin.ModelAdmin):
    """Display links (calls.wallboard.display_links). Adding one makes its token and shows the
    screen's URL once, in the message after saving; it is stored nowhere, so it is never shown
    again (a lost one: add a new link, revoke the old). The token's hash is never shown either."""

    list_display = ["name", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    list_select_related = ["created_by", "revoked_by"]
    actions = [revoke_display_links]
    fields = ["name", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]
    readonly_fields = ["created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]

    def get_fields(self, request, obj=None):
        return ["name"] if obj is None else self.fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            # Kept on the object for response_add, the one place the token is shown.
            obj.new_token = issue(obj, request.user)

    def response_add(self, request, obj, post_url_continue=None):
        url = request.build_absolute_uri(display_path(obj.new_token))
        self.message_user(
            request,
            _("The screen's address, shown only this once: %(url)s") % {"url": url},
            messages.SUCCESS,
        )
        return super().response_add(request, obj, post_url_continue)


class CustomerWithCallsAdmin(CustomerAdmin):
    """The customers app's admin, and on a customer's page their last calls and today's count:
    calls builds on customers, so it adds them here rather than customers reaching into calls."""

    change_form_template = "calls/admin_customer_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        if customer is not None:
            numbers = customer.phones.values_list("number", flat=True)
            extra_context = {
                **(extra_context or {}),
                "timeline": timeline(numbers, customer.pk, 20),
            }
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWithCallsAdmin)
