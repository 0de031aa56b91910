from __future__ import annotations

import re

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from customers.forms import CustomerFileForm, PhoneNumberForm
from customers.importing import import_customers, read_dataset, record_import
from customers.models import Customer, CustomerImport, PhoneNumber
from customers.phones import display_number, try_normalize
from customers.resources import CustomerResource

_NOT_DIGITS = re.compile(r"\D")
MIN_PARTIAL_DIGITS = 4


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    form = PhoneNumberForm
    extra = 1


@admin.register(Customer)
class CustomerAdmin(ExportMixin, admin.ModelAdmin):
    """Customers, with export by django-import-export and an import of our own: the library's
    import refuses the whole file when one row is bad; ours imports the good rows and lists the
    bad ones (docs/customer-import.md)."""

    resource_classes = [CustomerResource]
    change_list_template = "admin/customers/customer/change_list.html"
    list_display = ["name", "company", "email", "phone_numbers", "updated_at"]
    search_fields = ["name", "company", "email"]
    search_help_text = _("Name, company, e-mail, or a phone number in any format.")
    inlines = [PhoneNumberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    def has_import_permission(self, request) -> bool:
        # Rows update the customers they find by id or number, so adding alone is not enough.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        """`add/?phone=…` (the screen-pop's "add customer" link) prefills the first number."""
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj.pk is None and isinstance(inline, PhoneNumberInline) and request.method == "GET":
            kwargs["initial"] = [{"number": request.GET.get("phone", "")[:40]}]
        return kwargs

    def get_urls(self):
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="customers_customer_import",
            )
        ]
        return custom + super().get_urls()

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = CustomerFileForm(request.POST or None, request.FILES or None)
        report, error = None, None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            dry_run = form.cleaned_data["dry_run"]
            try:
                dataset = read_dataset(
                    upload.name, upload.read(), max_rows=settings.CUSTOMER_IMPORT_MAX_ROWS
                )
                report = import_customers(dataset, dry_run=dry_run)
            except ValueError as exc:
                error = str(exc)
            else:
                if not dry_run:
                    record_import(
                        report,
                        file_name=upload.name,
                        source=CustomerImport.Source.ADMIN,
                        user=request.user,
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import customers"),
            "form": form,
            "report": report,
            "error": error,
            "dry_run": form.is_bound and form.cleaned_data.get("dry_run"),
        }
        return TemplateResponse(request, "admin/customers/customer/import.html", context)

    @admin.display(description=_("phone numbers"))
    def phone_numbers(self, customer: Customer) -> str:
        return ", ".join(display_number(p.number) for p in customer.phones.all())

    def get_search_results(self, request, queryset, search_term):
        """Text fields as usual, plus numbers typed in any format (`0532 123 45 67` finds
        `+905321234567`); a run of digits also finds numbers containing it."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = _NOT_DIGITS.sub("", search_term)
        if len(digits) < MIN_PARTIAL_DIGITS:
            return results, may_have_duplicates
        # National digits stand as they are inside the E.164 form, so a fragment matches too.
        fragment = digits.lstrip("0")
        matching = Q(phones__number__contains=fragment) if fragment else Q(pk__in=[])
        e164 = try_normalize(search_term)
        if e164:
            matching |= Q(phones__number=e164)
        by_number = queryset.filter(matching)
        return (results | by_number).distinct(), True


@admin.register(CustomerImport)
class CustomerImportAdmin(admin.ModelAdmin):
    """Read-only: an audit trail is not edited."""

    list_display = ["at", "username", "source", "file_name", "new", "updated", "rejected"]
    list_filter = ["source", "at"]
    search_fields = ["username", "file_name"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
