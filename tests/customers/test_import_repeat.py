"""A file imported again updates the customers it names instead of doubling them; every change an
import makes is in the customer's admin history; an oversized upload is refused in words."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from customers.importing import import_customers_file
from customers.models import Customer, CustomerImport, PhoneNumber
from customers.services import customer_create

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, name: str = "liste.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")  # the format every version reads
    return path


LIST = (
    "name,company,phone,email\r\n"
    "Ayşe Yılmaz,A,0532 123 45 67,ayse@example.com\r\n"
    "Mehmet Öz,B,0212 555 12 34,\r\n"
)


def test_the_same_file_imported_twice_changes_nothing_the_second_time(tmp_path, import_file):
    path = write(tmp_path, LIST)

    first = import_file(path)
    second = import_file(path)

    assert (first.new, first.updated, first.unchanged) == (2, 0, 0), first.text
    assert (second.new, second.updated, second.unchanged) == (0, 0, 2), second.text
    assert Customer.objects.count() == 2
    assert PhoneNumber.objects.count() == 2


def test_a_row_without_id_updates_the_customer_its_number_belongs_to(tmp_path, import_file):
    # Its name is the customer's (a different one is an error: test_import_matching_rules.py).
    ayse = customer_create(name="Ayşe Yılmaz", company="Eski", phones=["+90 (532) 123-45-67"])
    path = write(tmp_path, "name,company,phone\r\nAyşe Yılmaz,Yeni,905321234567\r\n")

    outcome = import_file(path)

    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 1, 0), outcome.text
    ayse.refresh_from_db()
    assert (Customer.objects.get().pk, ayse.name, ayse.company) == (ayse.pk, "Ayşe Yılmaz", "Yeni")


def test_a_row_whose_numbers_belong_to_two_customers_is_an_error_and_the_rest_imports(
    tmp_path, import_file
):
    customer_create(name="Ayşe", phones=["0532 123 45 67"])
    customer_create(name="Mehmet", phones=["0212 555 12 34"])
    path = write(
        tmp_path,
        "name,phone\r\nKarışık,0532 123 45 67; 0212 555 12 34\r\nSelin,0533 000 00 01\r\n",
    )

    outcome = import_file(path)

    assert (outcome.new, outcome.updated, outcome.rejected) == (1, 0, 1), outcome.text
    assert "Ayşe" in outcome.text and "Mehmet" in outcome.text
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Ayşe", "Mehmet", "Selin"]


def test_two_rows_of_one_file_with_the_same_number_do_not_overwrite_each_other(tmp_path):
    path = write(tmp_path, "name,phone\r\nAyşe,0532 123 45 67\r\nMehmet,05321234567\r\n")

    with translation.override("en"):
        report = import_customers_file(path)

    assert (report.new, [p.row for p in report.problems]) == (1, [3])
    assert "row 2" in report.problems[0].message  # names the row that has the number
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ayşe"]


def test_an_import_shows_in_the_history_of_each_customer_it_changes(tmp_path, sam):
    unchanged = customer_create(name="Mehmet Öz", company="B", phones=["0212 555 12 34"])
    changed = customer_create(name="Ayşe Yılmaz", company="A", phones=["0532 123 45 67"])
    client = Client()
    client.force_login(sam)
    upload = io.BytesIO(LIST.encode())
    upload.name = "mart.csv"

    client.post(reverse("admin:customers_customer_import"), {"file": upload})

    assert Customer.objects.count() == 2
    entry = LogEntry.objects.get(object_id=str(changed.pk))
    assert (entry.user, entry.action_flag) == (sam, CHANGE)
    assert "mart.csv" in entry.get_change_message()
    assert not LogEntry.objects.filter(object_id=str(unchanged.pk)).exists()
    history = client.get(reverse("admin:customers_customer_history", args=[changed.pk]))
    assert "mart.csv" in history.content.decode()


def test_a_command_line_import_shows_in_the_history_of_new_customers(tmp_path, sam):
    call_command("import_customers", str(write(tmp_path, LIST)), "--user", "sam",
                 stdout=io.StringIO())  # fmt: skip

    entries = LogEntry.objects.filter(action_flag=ADDITION, user=sam)
    assert sorted(e.object_repr for e in entries) == ["Ayşe Yılmaz (A)", "Mehmet Öz (B)"]
    assert all("liste.csv" in e.get_change_message() for e in entries)


def test_a_command_line_import_needs_the_panel_user_it_is_made_for(tmp_path):
    path = write(tmp_path, LIST)

    with pytest.raises(CommandError, match="--user"):
        call_command("import_customers", str(path), stdout=io.StringIO())

    assert not Customer.objects.exists()
    assert not CustomerImport.objects.exists()
    call_command("import_customers", str(path), "--dry-run", stdout=io.StringIO())


def test_an_upload_over_20_mb_is_refused_in_words_and_imports_nothing(sam):
    client = Client()
    client.force_login(sam)
    content = b"name,phone,notes\r\nAy\xc5\x9fe,0532 123 45 67," + b"x" * 20 * 1024 * 1024
    assert len(content) > 20 * 1024 * 1024
    upload = io.BytesIO(content)
    upload.name = "big.csv"

    response = client.post(reverse("admin:customers_customer_import"), {"file": upload})

    assert response.status_code == 200
    assert "20 MB" in response.content.decode()
    assert response.context["report"] is None
    assert not Customer.objects.exists()
    assert not CustomerImport.objects.exists()


def test_the_import_page_needs_the_right_to_change_customers_as_it_updates_them(alice):
    # An import updates the customers its rows find by id or number: adding is not enough.
    alice.groups.clear()
    alice.user_permissions.set(
        Permission.objects.filter(content_type__app_label="customers", codename="add_customer")
    )
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("admin:customers_customer_import")).status_code == 403
