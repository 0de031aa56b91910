"""The customer CSV/XLSX format (docs/customer-import.md), shared by the admin and the command.

Columns: `id` (optional: present → update that customer; absent → the customer the row's numbers
belong to if it has the row's name, the customer of that name for a row without number, or a new
one), `name`, `company`, `phone` (one or more numbers separated by `;`, any
format), `email`, `notes`. A row with a bad value is reported with its number and reason; the good
rows are imported. Files come here with these column names (customers.columns maps a file's own).
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from customers.linking import announce_numbers_changed
from customers.models import Customer, PhoneNumber
from customers.phones import InvalidPhoneNumber, normalize
from telsam_panel.spreadsheet_cells import neutralise_formula, restore_formula

PHONE_SEPARATOR = ";"
FREE_TEXT_COLUMNS = ("name", "company", "email", "notes")
# An import looks its rows' customers up, and writes their changes, this many rows at a time:
# a few queries per chunk instead of several per row, and memory bounded whatever the file.
CHUNK_ROWS = 1000
_WRITTEN_FIELDS = ["name", "company", "email", "notes", "updated_at"]
_LARGEST_ID = 2**63 - 1  # a bigger integer is no customer's, and the database refuses it


def id_in_cell(text: str) -> int | None:
    """The customer id a cell spells, or None. `²` and `١٢` pass str.isdigit(); only decimal
    digits make an id, and only ones the database can hold."""
    try:
        number = int(text) if text.isdecimal() else None
    except ValueError:  # more digits than int() reads
        return None
    return number if number is not None and number <= _LARGEST_ID else None


def same_name(first: str, second: str) -> bool:
    """Whether two spellings name the same customer: case and spacing aside."""
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


def cell_text(value: object) -> str:
    """A spreadsheet cell as text. Excel hands numbers over as floats (5321234567.0); a phone
    number must never go through float formatting (5.32e9) or lose digits. A crafted `1E999`
    reads as infinity, which has no digits: it stays text, for the row's checks to refuse."""
    finite = (isinstance(value, float) and math.isfinite(value)) or (
        isinstance(value, Decimal) and value.is_finite()
    )
    if finite and value == int(value):
        return str(int(value))
    return "" if value is None else str(value).strip()


class PhoneListWidget(widgets.Widget):
    """`0532 123 45 67; +90 212 555 12 34` ⇄ a list of E.164 numbers.

    During an import each cell is read three times (to find its customer, to import it, to claim
    its numbers): `memo` (set per import) keeps each cell's answer, so it is parsed once.
    """

    memo: dict[str, list[str] | str] | None = None  # cell → numbers, or the error's message

    def clean(self, value, row=None, **kwargs) -> list[str]:
        text = cell_text(value)
        if self.memo is None:
            return self._parse(text)
        if text not in self.memo:
            try:
                self.memo[text] = self._parse(text)
            except ValueError as exc:
                self.memo[text] = str(exc)
        answer = self.memo[text]
        if isinstance(answer, str):
            raise ValueError(answer)
        return list(answer)

    @staticmethod
    def _parse(text: str) -> list[str]:
        numbers = []
        for part in text.split(PHONE_SEPARATOR):
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
        # No deep copy of every row's customer for a diff nobody is shown: `skip_row` compares
        # with the values `after_init_instance` noted.
        skip_diff = True
        # The report's ids of new customers: they exist once their chunk is written.
        store_instance = True

    def dehydrate_phone(self, customer: Customer) -> str:
        return f"{PHONE_SEPARATOR} ".join(p.number for p in customer.phones.all())

    def export_field(self, field, instance, **kwargs):
        # Every cell, as in every export of the panel (telsam_panel.spreadsheet_cells).
        return neutralise_formula(super().export_field(field, instance, **kwargs))

    def before_import(self, dataset, **kwargs) -> None:
        self._dataset = dataset
        self.fields["phone"].widget.memo = {}
        # E.164 number → the spreadsheet row of this file that imported it.
        self._row_of_number: dict[str, int] = {}
        # The current chunk's customers: by id, and the customers (id → name) of each number.
        self._customers: dict[int, Customer] = {}
        self._owners: dict[str, dict[int, str]] = {}
        # Customer name → the ids of the chunk's customers of that name (rows without number).
        self._named: dict[str, list[int]] = {}
        # Name (and company) of a row without id and number → the row of this file that has it.
        self._row_of_name: dict[tuple[str, str | None], int] = {}
        # Whether the current row found its customer (by number or name) rather than by its id:
        # such a row adds its numbers to the customer's, it never drops the others.
        self._adds_numbers = False
        # "Only check": the customers rows have changed, as they left them (nothing is written).
        self._checked: dict[int, Customer] = {}
        self._to_create: list[Customer] = []
        self._to_update: dict[int, Customer] = {}
        # id() of a queued customer the database refused → its message (see `_write_pending`).
        self.unwritten: dict[int, str] = {}

    def import_row(self, row, instance_loader, **kwargs):
        # Each chunk is written and looked up here, outside the row's own error handling: a
        # failure is then the import's, and no row runs on the previous chunk's lookups.
        if (kwargs["row_number"] - 1) % CHUNK_ROWS == 0:
            self._write_pending()
            self._load_chunk(kwargs["row_number"] - 1)
        return super().import_row(row, instance_loader, **kwargs)

    def before_import_row(self, row, **kwargs) -> None:
        self._adds_numbers = False
        if "id" in row:
            row["id"] = cell_text(row["id"])
            # The id column only updates exported customers: an id of our choosing would also be
            # inserted past PostgreSQL's sequence and collide with a later customer.
            if row["id"] and id_in_cell(row["id"]) not in self._customers:
                raise ValueError(
                    _("id: there is no customer '%(id)s' (leave id empty to add one)")
                    % {"id": row["id"][:20]}
                )
        for column in FREE_TEXT_COLUMNS:
            if column in row:
                row[column] = restore_formula(cell_text(row[column]))
        if not row.get("id"):
            row["id"] = self._customer_the_row_is_about(row)
            self._adds_numbers = bool(row["id"])

    def _load_chunk(self, start: int) -> None:
        """Look up, in a few queries, every customer the next CHUNK_ROWS rows may be about: those
        their ids name and those their numbers belong to. Earlier chunks are written already."""
        # Cleared first: should a query fail, no row may find the previous chunk's customers.
        self._customers, self._owners, self._named = {}, {}, {}
        headers = self._dataset.headers
        rows = self._dataset[start : start + CHUNK_ROWS]
        ids, numbers, names = set(), set(), set()
        for values in rows:
            cells = dict(zip(headers, values, strict=False))
            wanted = id_in_cell(cell_text(cells.get("id")))
            if wanted is not None:
                ids.add(wanted)
            try:
                found = self.fields["phone"].widget.clean(cells.get("phone"))
            except ValueError:  # the row's own check reports it
                continue
            numbers.update(found)
            if not found and wanted is None:
                names.add(restore_formula(cell_text(cells.get("name"))))
        for pk, name in Customer.objects.filter(name__in=names - {""}).values_list("pk", "name"):
            self._named.setdefault(name, []).append(pk)
            ids.add(pk)
        for number, customer_id, name in PhoneNumber.objects.filter(number__in=numbers).values_list(
            "number", "customer_id", "customer__name"
        ):
            self._owners.setdefault(number, {})[customer_id] = name
        ids |= {customer_id for owners in self._owners.values() for customer_id in owners}
        self._customers = {c.pk: c for c in Customer.objects.filter(pk__in=ids)}
        stored: dict[int, set[str]] = {pk: set() for pk in self._customers}
        for customer_id, number in PhoneNumber.objects.filter(customer_id__in=ids).values_list(
            "customer_id", "number"
        ):
            stored[customer_id].add(number)
        for customer in self._customers.values():
            customer._stored_numbers = stored[customer.pk]  # in the database
            customer._numbers = set(stored[customer.pk])  # after this file's rows so far
        if self._checked:
            self._as_checked(numbers, names)

    def _as_checked(self, numbers: set[str], names: set[str]) -> None:
        """In an "only check" earlier chunks wrote nothing: take the customers their rows
        changed as those rows left them, not as the database still has them, so that each row
        is judged as in the import (a number taken away belongs to nobody, a new name counts)."""
        for owners in self._owners.values():
            for pk in [pk for pk in owners if pk in self._checked]:
                del owners[pk]
        for name, same in self._named.items():
            self._named[name] = [pk for pk in same if pk not in self._checked]
        for pk, customer in self._checked.items():
            for number in customer._numbers & numbers:
                self._owners.setdefault(number, {})[pk] = customer.name
            if customer.name in names:
                self._named.setdefault(customer.name, []).append(pk)
        self._customers.update(self._checked)

    def get_instance(self, instance_loader, row):
        return self._customers.get(id_in_cell(row["id"])) if row.get("id") else None

    def import_instance(self, instance, row, **kwargs) -> None:
        super().import_instance(instance, row, **kwargs)
        numbers = getattr(instance, "phone", None)
        if self._adds_numbers and numbers is not None:
            # Found by a number or a name, the row is one view of the customer: it adds its
            # numbers and keeps the customer's others. A row with an id replaces them.
            instance.phone = list(dict.fromkeys([*numbers, *sorted(instance._numbers)]))

    def init_instance(self, row=None) -> Customer:
        customer = super().init_instance(row)
        customer._stored_numbers, customer._numbers = set(), set()
        return customer

    def after_init_instance(self, instance, new, row, **kwargs) -> None:
        # Two rows may name one customer by id: each compares with what the one before left.
        instance._before = [getattr(instance, f.attname) for f in Customer._meta.concrete_fields]
        instance.__dict__.pop("phone", None)

    def _customer_the_row_is_about(self, row) -> str:
        """The id of the customer a row without id is about, or "" for a new customer: the one
        its numbers belong to (in any format, as they are stored in E.164), or for a row
        without number the one of its name (and company, if the file has that column).

        A row is an error rather than a guess when updating could overwrite the wrong customer:
        numbers of two customers, or of one of another name; a number, or a name without
        number, that an earlier row of the same file has; a name that two customers share.
        """
        try:
            numbers = self.fields["phone"].widget.clean(row.get("phone"))
        except ValueError:
            return ""  # the phone column's own check reports it
        if not numbers:
            return self._customer_named_as(row)
        earlier = sorted({self._row_of_number[n] for n in numbers if n in self._row_of_number})
        if earlier:
            raise ValueError(
                _("phone: row %(earlier)s of this file has the same number; give each row its own")
                % {"earlier": earlier[0]}
            )
        owners = dict(
            sorted(
                (customer_id, name)
                for number in numbers
                for customer_id, name in self._owners.get(number, {}).items()
            )
        )
        if len(owners) > 1:
            raise ValueError(
                _(
                    "phone: the numbers belong to different customers (%(customers)s); "
                    "add an id column to say which one this row updates"
                )
                % {"customers": ", ".join(f"{name} #{pk}" for pk, name in owners.items())}
            )
        if not owners:
            return ""
        ((pk, name),) = owners.items()
        # A shared number (a switchboard) must not rename its customer after another person.
        if not same_name(name, row.get("name", "")):
            raise ValueError(
                _(
                    "phone: the numbers belong to %(customer)s, not to %(name)s; add an id "
                    "column to update that customer, or leave their numbers out of this row"
                )
                % {"customer": f"{name} #{pk}", "name": row.get("name", "")[:100]}
            )
        return str(pk)

    def _customer_named_as(self, row) -> str:
        name = row.get("name", "")
        company = row.get("company") if "company" in row else None
        earlier = self._row_of_name.get((name, company))
        if earlier:
            raise ValueError(
                _(
                    "name: row %(earlier)s of this file has the same name and no number either; "
                    "give each row a number, or keep one of them"
                )
                % {"earlier": earlier}
            )
        same = [
            self._customers[pk]
            for pk in self._named.get(name, [])
            if pk in self._customers
            and self._customers[pk].name == name
            and (company is None or self._customers[pk].company == company)
        ]
        if len(same) > 1:
            raise ValueError(
                _(
                    "name: %(count)d customers have this name (%(customers)s) and the row has no "
                    "number; add an id column to say which one this row updates"
                )
                % {
                    "count": len(same),
                    "customers": ", ".join(f"{c.name} #{c.pk}" for c in same[:10]),
                }
            )
        return str(same[0].pk) if same else ""

    def after_import_row(self, row, row_result, **kwargs) -> None:
        # Only rows that were imported (or found unchanged) claim their numbers: an error row
        # never reaches here and blocks nobody.
        try:
            numbers = self.fields["phone"].widget.clean(row.get("phone"))
        except ValueError:
            return
        for number in numbers:
            self._row_of_number.setdefault(number, kwargs["row_number"] + 1)
        if not numbers:  # a later row of that name and no number would be about it too
            key = (row.get("name", ""), row.get("company") if "company" in row else None)
            self._row_of_name.setdefault(key, kwargs["row_number"] + 1)

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        """Unchanged: the customer exists and the row changes none of its fields or numbers."""
        if import_validation_errors or instance.pk is None:
            return False
        if instance._before != [
            getattr(instance, f.attname) for f in Customer._meta.concrete_fields
        ]:
            return False
        numbers = getattr(instance, "phone", None)  # None: the file has no phone column
        return numbers is None or set(numbers) == instance._numbers

    def save_instance(self, instance: Customer, is_create, row, **kwargs) -> None:
        """Queue the row's customer for its chunk's bulk write (`_write_pending`)."""
        # `phone` is not a model field: the widget leaves the cleaned list on the instance.
        numbers = getattr(instance, "phone", None)
        if numbers is not None:
            # Before the dry run's return: later rows find their customers by what this one
            # changed in an "only check" exactly as in the import, so both report the same.
            numbers = set(numbers)
            if instance.pk is not None:  # later rows of this chunk find it by its numbers
                for number in instance._numbers - numbers:
                    self._owners.get(number, {}).pop(instance.pk, None)
                for number in numbers:
                    self._owners.setdefault(number, {})[instance.pk] = instance.name
            instance._numbers = numbers
        if kwargs.get("dry_run"):
            if instance.pk is not None:
                self._checked[instance.pk] = instance
            return
        instance._rows = [*getattr(instance, "_rows", []), kwargs["row_number"]]
        if is_create:
            self._to_create.append(instance)
        else:
            self._to_update[instance.pk] = instance

    def _write_pending(self) -> None:
        """Write the queued customers and their numbers, in one transaction and a few queries.

        A value only the database refuses (PostgreSQL takes no NUL character in text) fails the
        whole bulk write: then each customer is written alone, and one that still fails is its
        rows' error (`unwritten`), as in a row-by-row import; the chunk's other rows are kept.
        """
        created, updated = self._to_create, list(self._to_update.values())
        if not created and not updated:
            return
        self._to_create, self._to_update = [], {}
        try:
            with transaction.atomic():
                self._write(created, updated)
        except DatabaseError:
            for customer in created:  # their inserts were rolled back
                customer.pk, customer._state.adding = None, True
            alone = [([c], []) for c in created] + [([], [c]) for c in updated]
            for new, changed in alone:
                try:
                    with transaction.atomic():
                        self._write(new, changed)
                except DatabaseError as exc:
                    for customer in new:
                        customer.pk, customer._state.adding = None, True
                    self.unwritten[id(next(iter(new or changed)))] = str(exc)

    def _write(self, created: list[Customer], updated: list[Customer]) -> None:
        if connection.features.can_return_rows_from_bulk_insert:
            Customer.objects.bulk_create(created)
        else:  # the new customers' ids are needed for their numbers
            for customer in created:
                customer.save(force_insert=True)
        now = timezone.now()  # the latest-updated customer of a shared number matches first
        for customer in updated:
            customer.updated_at = now
        Customer.objects.bulk_update(updated, _WRITTEN_FIELDS, batch_size=CHUNK_ROWS)
        dropped = Q()
        new_numbers, touched = [], set()
        for customer in (*created, *updated):
            gone = customer._stored_numbers - customer._numbers
            if gone:
                dropped |= Q(customer_id=customer.pk, number__in=gone)
            # In the file's order, as a row-by-row save stored them.
            in_file = dict.fromkeys([*(getattr(customer, "phone", None) or ()),
                                     *sorted(customer._numbers)])  # fmt: skip
            new_numbers += [
                PhoneNumber(customer=customer, number=number)
                for number in in_file
                if number in customer._numbers and number not in customer._stored_numbers
            ]
            touched |= customer._stored_numbers | customer._numbers
        if dropped.children:
            PhoneNumber.objects.filter(dropped).delete()
        PhoneNumber.objects.bulk_create(new_numbers)
        announce_numbers_changed(touched)  # bulk writes send no signals

    def after_import(self, dataset, result, **kwargs) -> None:
        self._write_pending()
        self.fields["phone"].widget.memo = None
        super().after_import(dataset, result, **kwargs)

    def get_queryset(self):
        return super().get_queryset().prefetch_related("phones")
