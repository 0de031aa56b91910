"""The customer CSV/XLSX format (docs/customer-import.md), shared by the admin and the command.

Columns: `id` (optional: present → update that customer; absent → the customer the row's numbers
belong to, or a new one), `name`, `company`, `phone` (one or more numbers separated by `;`, any
format), `email`, `notes`. A row with a bad value is reported with its number and reason; the good
rows are imported. Files come here with these column names (customers.columns maps a file's own).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from customers.linking import relink_call_records
from customers.models import Customer, PhoneNumber
from customers.phones import InvalidPhoneNumber, normalize
from telsam_panel.spreadsheet_cells import neutralise_formula, restore_formula

PHONE_SEPARATOR = ";"
FREE_TEXT_COLUMNS = ("name", "company", "email", "notes")


def cell_text(value: object) -> str:
    """A spreadsheet cell as text. Excel hands numbers over as floats (5321234567.0); a phone
    number must never go through float formatting (5.32e9) or lose digits."""
    if isinstance(value, float | Decimal) and value == int(value):
        return str(int(value))
    return "" if value is None else str(value).strip()


class PhoneListWidget(widgets.Widget):
    """`0532 123 45 67; +90 212 555 12 34` ⇄ a list of E.164 numbers."""

    def clean(self, value, row=None, **kwargs) -> list[str]:
        numbers = []
        for part in cell_text(value).split(PHONE_SEPARATOR):
            if not part.strip():
                continue
            try:
                numbers.append(normalize(part))
            except InvalidPhoneNumber as exc:
                raise ValueError(str(exc)) from None
        return list(dict.fromkeys(numbers))

    def render(self, value, obj=None, **kwargs) -> str:
        return f"{PHONE_SEPARATOR} ".join(value or [])


class CustomerResource(resources.ModelResource):
    phone = fields.Field(attribute="phone", column_name="phone", widget=PhoneListWidget())

    class Meta:
        model = Customer
        fields = ["id", "name", "company", "phone", "email", "notes"]
        export_order = fields
        clean_model_instances = True  # e.g. a malformed e-mail address is a row error
        skip_unchanged = True  # reported as unchanged: a file imported twice changes nothing

    def dehydrate_phone(self, customer: Customer) -> str:
        return f"{PHONE_SEPARATOR} ".join(p.number for p in customer.phones.all())

    def export_field(self, field, instance, **kwargs):
        # Every cell, as in every export of the panel (telsam_panel.spreadsheet_cells).
        return neutralise_formula(super().export_field(field, instance, **kwargs))

    def before_import(self, dataset, **kwargs) -> None:
        # E.164 number → the spreadsheet row of this file that imported it.
        self._row_of_number: dict[str, int] = {}

    def before_import_row(self, row, **kwargs) -> None:
        if "id" in row:
            row["id"] = cell_text(row["id"])
            # The id column only updates exported customers: an id of our choosing would also be
            # inserted past PostgreSQL's sequence and collide with a later customer.
            if row["id"] and not (
                row["id"].isdigit() and Customer.objects.filter(pk=int(row["id"])).exists()
            ):
                raise ValueError(
                    _("id: there is no customer '%(id)s' (leave id empty to add one)")
                    % {"id": row["id"][:20]}
                )
        for column in FREE_TEXT_COLUMNS:
            if column in row:
                row[column] = restore_formula(cell_text(row[column]))
        if not row.get("id"):
            row["id"] = self._customer_with_the_numbers_of(row)

    def _customer_with_the_numbers_of(self, row) -> str:
        """The id of the customer a row without id is about: the one its numbers belong to
        (in any format, as they are stored in E.164), or "" for a new customer.

        Numbers that belong to two customers, or that an earlier row of the same file imported,
        make the row an error: updating either customer could overwrite the wrong one.
        """
        try:
            numbers = self.fields["phone"].widget.clean(row.get("phone"))
        except ValueError:
            return ""  # the phone column's own check reports it
        earlier = sorted({self._row_of_number[n] for n in numbers if n in self._row_of_number})
        if earlier:
            raise ValueError(
                _("phone: row %(earlier)s of this file has the same number; give each row its own")
                % {"earlier": earlier[0]}
            )
        owners = dict(
            PhoneNumber.objects.filter(number__in=numbers)
            .order_by("customer_id")
            .values_list("customer_id", "customer__name")
        )
        if len(owners) > 1:
            raise ValueError(
                _(
                    "phone: the numbers belong to different customers (%(customers)s); "
                    "add an id column to say which one this row updates"
                )
                % {"customers": ", ".join(f"{name} #{pk}" for pk, name in owners.items())}
            )
        return str(next(iter(owners), ""))

    def after_import_row(self, row, row_result, **kwargs) -> None:
        # Only rows that were imported (or found unchanged) claim their numbers: an error row
        # never reaches here and blocks nobody.
        try:
            numbers = self.fields["phone"].widget.clean(row.get("phone"))
        except ValueError:
            return
        for number in numbers:
            self._row_of_number.setdefault(number, kwargs["row_number"] + 1)

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        """Unchanged: the customer exists and the row changes none of its fields or numbers."""
        if import_validation_errors or original.pk is None:
            return False
        if any(
            getattr(instance, field.attname) != getattr(original, field.attname)
            for field in Customer._meta.concrete_fields
        ):
            return False
        numbers = getattr(instance, "phone", None)  # None: the file has no phone column
        return numbers is None or set(numbers) == set(
            original.phones.values_list("number", flat=True)
        )

    def after_save_instance(self, instance: Customer, row, **kwargs) -> None:
        # `phone` is not a model field: the widget leaves the cleaned list on the instance.
        numbers = getattr(instance, "phone", None)
        if numbers is None or kwargs.get("dry_run"):
            return
        instance.phones.exclude(number__in=numbers).delete()
        existing = set(instance.phones.values_list("number", flat=True))
        PhoneNumber.objects.bulk_create(
            PhoneNumber(customer=instance, number=n) for n in numbers if n not in existing
        )
        relink_call_records(set(numbers) | existing)  # bulk_create sends no signals

    def get_queryset(self):
        return super().get_queryset().prefetch_related("phones")
