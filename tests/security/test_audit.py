"""Who changed what, when. Customer edits in the admin are in Django's LogEntry (the admin's
"history"); every import, from the admin page or `manage.py import_customers`, is a CustomerImport
row with the user, the file, the time and the counts, read-only in the admin. (Hang-ups:
tests/calls/panel/test_hangup.py, HangupAttempt.)"""

from __future__ import annotations

import getpass
import io
import json
from datetime import timedelta

import pytest
import tablib
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, CustomerImport
from customers.services import customer_create
from tests.support.personas import logged_in

pytestmark = pytest.mark.django_db

HEADER = ["name", "company", "phone", "email", "notes"]


def customer_form(customer: Customer | None = None, **fields) -> dict[str, str]:
    data = {"name": "", "company": "", "email": "", "notes": "", **fields}
    phones = list(customer.phones.all()) if customer else []
    data.update(
        {
            "phones-TOTAL_FORMS": str(len(phones)),
            "phones-INITIAL_FORMS": str(len(phones)),
            "phones-MIN_NUM_FORMS": "0",
            "phones-MAX_NUM_FORMS": "1000",
        }
    )
    for index, phone in enumerate(phones):
        data.update(
            {
                f"phones-{index}-id": str(phone.pk),
                f"phones-{index}-customer": str(customer.pk),
                f"phones-{index}-number": phone.number,
                f"phones-{index}-label": phone.label,
            }
        )
    return data


def recent(moment) -> bool:
    return timezone.now() - timedelta(minutes=1) < moment <= timezone.now()


def test_a_customer_change_in_the_admin_names_the_user_the_time_and_the_fields(alice):
    customer = customer_create(name="Ayşe", company="A", phones=["0532 123 45 67"])
    client = logged_in(alice)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = client.post(
        url, customer_form(customer, name="Ayşe Yılmaz", company="A", notes="VIP")
    )
    assert response.status_code == 302

    entry = LogEntry.objects.get()
    assert (entry.user, entry.action_flag, entry.object_id) == (alice, CHANGE, str(customer.pk))
    assert recent(entry.action_time)
    assert entry.object_repr == "Ayşe Yılmaz (A)"
    # Which fields: stored by their form labels, shown in the history page.
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["Name", "Notes"]}}]
    history = client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert "alice" in history.content.decode()
    assert "Name ve Notes değiştirildi." in history.content.decode()


def test_adding_and_deleting_a_customer_are_logged_too(sam):
    client = logged_in(sam)
    client.post(reverse("admin:customers_customer_add"), customer_form(name="Selin"))
    customer = Customer.objects.get()
    client.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"})
    assert not Customer.objects.exists()
    assert list(LogEntry.objects.order_by("pk").values_list("user__username", "action_flag")) == [
        ("sam", ADDITION),
        ("sam", DELETION),
    ]


def upload(rows: list[list[str]], name: str = "customers.csv", header=HEADER) -> io.BytesIO:
    file = io.BytesIO(tablib.Dataset(*rows, headers=header).csv.encode())
    file.name = name
    return file


GOOD_AND_BAD = [["Ayşe", "A", "0532 123 45 67", "", ""], ["Bad", "B", "12", "", ""]]


def test_an_import_in_the_admin_is_recorded_with_user_file_time_and_counts(sam):
    ayse = customer_create(name="Ayşe", phones=["0532 123 45 67"])
    rows = [
        [str(ayse.pk), *GOOD_AND_BAD[0]],
        ["", *GOOD_AND_BAD[1]],
        ["", "Selin", "", "0212 555 12 34", "", ""],
    ]
    response = logged_in(sam).post(
        reverse("admin:customers_customer_import"),
        {"file": upload(rows, "mart-listesi.csv", header=["id", *HEADER])},
    )
    assert response.status_code == 200
    record = CustomerImport.objects.get()
    assert (record.user, record.username, record.source) == (sam, "sam", "admin")
    assert record.file_name == "mart-listesi.csv"
    assert (record.new, record.updated, record.rejected) == (1, 1, 1)
    assert recent(record.at)


def test_a_dry_run_is_not_an_import(sam):
    logged_in(sam).post(
        reverse("admin:customers_customer_import"), {"file": upload(GOOD_AND_BAD), "dry_run": "on"}
    )
    assert not CustomerImport.objects.exists()


def test_an_import_from_the_command_line_is_recorded_for_its_user_and_the_account_that_ran_it(
    tmp_path, sam
):
    path = tmp_path / "liste.csv"
    path.write_bytes(upload(GOOD_AND_BAD).getvalue())
    call_command(
        "import_customers", str(path), "--user", "sam", stderr=io.StringIO(), stdout=io.StringIO()
    )
    record = CustomerImport.objects.get()
    assert (record.user, record.username, record.source) == (sam, "sam", "command")
    assert (record.file_name, record.new, record.rejected) == ("liste.csv", 1, 1)
    history = LogEntry.objects.get(object_id=str(Customer.objects.get(name="Ayşe").pk))
    assert getpass.getuser() in history.get_change_message()


def test_the_command_line_can_name_the_panel_user_it_imports_for(tmp_path, sam):
    path = tmp_path / "liste.csv"
    path.write_bytes(upload(GOOD_AND_BAD).getvalue())
    call_command("import_customers", str(path), "--user", "sam", stderr=io.StringIO())
    assert CustomerImport.objects.get().user == sam
    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("import_customers", str(path), "--user", "nobody")
    assert CustomerImport.objects.count() == 1


def test_supervisors_read_the_import_trail_and_nobody_edits_it(sam, alice):
    record = CustomerImport.objects.create(
        user=alice,
        username="alice",
        source="admin",
        file_name="a.csv",
        new=3,
        updated=1,
        rejected=0,
    )
    client = logged_in(sam)
    listing = client.get(reverse("admin:customers_customerimport_changelist"))
    assert listing.status_code == 200
    assert "a.csv" in listing.content.decode()
    change = reverse("admin:customers_customerimport_change", args=[record.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert b'name="file_name"' not in page.content  # shown, not editable
    assert client.post(change, {"file_name": "b.csv"}).status_code == 403
    assert client.get(reverse("admin:customers_customerimport_add")).status_code == 403
    delete = reverse("admin:customers_customerimport_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert CustomerImport.objects.get().file_name == "a.csv"
    # Agents import, but the trail of everybody's imports is for supervisors.
    assert (
        logged_in(alice).get(reverse("admin:customers_customerimport_changelist")).status_code
        == 403
    )
