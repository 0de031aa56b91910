from __future__ import annotations

from django.contrib import admin

from calls.history.records import timeline
from calls.models import HangupAttempt, WrapUpCode, WrapUpQueue
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
