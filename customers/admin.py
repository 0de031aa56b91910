from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from customers.forms import PhoneNumberForm
from customers.models import Customer, PhoneNumber
from customers.phones import try_normalize
from customers.resources import CustomerResource

_NOT_DIGITS = re.compile(r"\D")
MIN_PARTIAL_DIGITS = 4


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    form = PhoneNumberForm
    extra = 1


@admin.register(Customer)
class CustomerAdmin(ImportExportModelAdmin):
    resource_classes = [CustomerResource]
    list_display = ["name", "company", "email", "phone_numbers", "updated_at"]
    search_fields = ["name", "company", "email"]
    search_help_text = _("Name, company, e-mail, or a phone number in any format.")
    inlines = [PhoneNumberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    @admin.display(description=_("phone numbers"))
    def phone_numbers(self, customer: Customer) -> str:
        return ", ".join(p.number for p in customer.phones.all())

    def get_search_results(self, request, queryset, search_term):
        """Text fields as usual, plus numbers typed in any format (`0532 123 45 67` finds
        `+905321234567`); a run of digits also finds numbers containing it."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = _NOT_DIGITS.sub("", search_term)
        if len(digits) < MIN_PARTIAL_DIGITS:
            return results, may_have_duplicates
        # National digits stand as they are inside the E.164 form, so a fragment matches too.
        matching = Q(phones__number__contains=digits.lstrip("0"))
        e164 = try_normalize(search_term)
        if e164:
            matching |= Q(phones__number=e164)
        by_number = queryset.filter(matching)
        return (results | by_number).distinct(), True
