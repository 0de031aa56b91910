from __future__ import annotations

from django.contrib import admin

from calls.history.records import timeline
from calls.models import FollowUp, HangupAttempt, WrapUpCode, WrapUpQueue
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
