"""Which customer a row is about, when a file is retried, corrected or only checked
(docs/customer-import.md, "New, updated or unchanged")."""

from __future__ import annotations

import pytest
from django.utils import translation

from customers.importing import import_customers_file
from customers.models import Customer
from customers.services import customer_create

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, name: str = "liste.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def numbers_of(customer: Customer) -> set[str]:
    return set(customer.phones.values_list("number", flat=True))


def test_an_id_that_only_looks_like_digits_is_its_rows_error_and_the_others_find_their_customers(
    tmp_path,
):
    # `²` passes str.isdigit() but not int(): looking the chunk up failed and left the rows
    # after it without their customers, so each was added a second time.
    for index in range(3):
        customer_create(name=f"Müşteri {index}", phones=[f"0532 000 00 0{index}"])
    lines = ["id,name,phone", "²,Kimse,0533 000 00 09"]
    lines += [f",Müşteri {index},0532 000 00 0{index}" for index in range(3)]

    with translation.override("en"):
        report = import_customers_file(write(tmp_path, "\r\n".join(lines) + "\r\n"))

    assert [p.row for p in report.problems] == [2]
    assert "no customer" in report.problems[0].message
    assert (report.new, report.updated, report.unchanged) == (0, 0, 3)
    assert Customer.objects.count() == 3


def test_a_retried_file_of_customers_without_numbers_adds_nobody_twice(tmp_path, import_file):
    path = write(tmp_path, "name,company,phone\r\nAli Demir,Demir Ltd,\r\nVeli Kaya,,\r\n")

    first = import_file(path)
    second = import_file(path)

    assert (first.new, second.new, second.unchanged) == (2, 0, 2), second.text
    assert Customer.objects.count() == 2


def test_a_row_without_number_or_id_matching_two_customers_by_name_is_an_error(
    tmp_path, import_file
):
    first = customer_create(name="Ali Demir", company="Demir Ltd")
    second = customer_create(name="Ali Demir", company="Demir Ltd")

    outcome = import_file(write(tmp_path, "name,company,phone\r\nAli Demir,Demir Ltd,\r\n"))

    assert (outcome.new, outcome.updated, outcome.rejected) == (0, 0, 1), outcome.text
    assert f"#{first.pk}" in outcome.text and f"#{second.pk}" in outcome.text
    assert Customer.objects.count() == 2


def test_a_row_whose_number_belongs_to_a_customer_of_another_name_is_an_error_naming_them(
    tmp_path, import_file
):
    # Ayşe answers the switchboard; Mehmet's row has it next to his own mobile.
    ayse = customer_create(name="Ayşe Yılmaz", phones=["0212 555 12 34", "0532 123 45 67"])
    path = write(tmp_path, 'name,phone\r\nMehmet Öz,"0212 555 12 34; 0533 765 43 21"\r\n')

    outcome = import_file(path)

    assert (outcome.new, outcome.updated, outcome.rejected) == (0, 0, 1), outcome.text
    assert f"Ayşe Yılmaz #{ayse.pk}" in outcome.text and "id" in outcome.text
    ayse.refresh_from_db()
    assert ayse.name == "Ayşe Yılmaz"
    assert numbers_of(ayse) == {"+902125551234", "+905321234567"}


def test_a_row_matched_by_one_of_its_numbers_adds_its_others_and_keeps_the_customers(
    tmp_path, import_file
):
    ayse = customer_create(name="Ayşe Yılmaz", phones=["0212 555 12 34", "0532 123 45 67"])
    path = write(tmp_path, 'name,phone\r\nayşe  yılmaz,"0212 555 12 34; 0533 765 43 21"\r\n')

    outcome = import_file(path)

    assert (outcome.new, outcome.updated, outcome.rejected) == (0, 1, 0), outcome.text
    assert Customer.objects.get().pk == ayse.pk
    assert numbers_of(ayse) == {"+902125551234", "+905321234567", "+905337654321"}


def test_a_row_with_an_id_replaces_the_customers_numbers_with_the_files(tmp_path):
    # An export edited and imported again: a number deleted from the file is deleted.
    ayse = customer_create(name="Ayşe Yılmaz", phones=["0212 555 12 34", "0532 123 45 67"])

    report = import_customers_file(
        write(tmp_path, f"id,name,phone\r\n{ayse.pk},Ayşe Yılmaz,0532 123 45 67\r\n")
    )

    assert (report.updated, report.problems) == (1, [])
    assert numbers_of(ayse) == {"+905321234567"}


def test_only_checking_a_file_reports_what_importing_it_does(tmp_path):
    # Row 2 takes a number away from Ayşe; row 3, with that number, is then a new customer.
    ayse = customer_create(name="Ayşe Yılmaz", phones=["0212 555 12 34", "0532 123 45 67"])
    path = write(
        tmp_path,
        f"id,name,phone\r\n{ayse.pk},Ayşe Yılmaz,0532 123 45 67\r\n,Selin Ak,0212 555 12 34\r\n",
    )

    checked = import_customers_file(path, dry_run=True)
    assert Customer.objects.count() == 1 and len(numbers_of(ayse)) == 2  # nothing saved
    imported = import_customers_file(path)

    def outcome(report):
        return report.new, report.updated, report.unchanged, report.problems

    assert outcome(checked) == outcome(imported) == (1, 1, 0, [])


def test_only_checking_reports_what_importing_does_across_chunks_of_rows(tmp_path):
    # Rows are looked up a chunk (1,000 rows) at a time; an "only check" writes nothing, so a
    # later chunk must still see what earlier rows changed: a number taken away, a new name.
    ayse = customer_create(name="Ayşe Yılmaz", phones=["0212 555 12 34", "0532 123 45 67"])
    mehmet = customer_create(name="Mehmet", phones=["0533 765 43 21"])
    lines = [
        "id;name;phone",
        f"{ayse.pk};Ayşe Yılmaz;0532 123 45 67",
        f"{mehmet.pk};Mehmet Öz;0533 765 43 21",
    ]
    lines += [f";Müşteri {index};0534 {index:07d}" for index in range(1100)]
    lines += [";Selin Ak;0212 555 12 34", ";Mehmet Öz;"]  # the last row: found by name
    path = write(tmp_path, "\r\n".join(lines) + "\r\n")

    checked = import_customers_file(path, dry_run=True)
    imported = import_customers_file(path)

    def outcome(report):
        return report.new, report.updated, report.unchanged, report.problems

    assert outcome(checked) == outcome(imported) == (1101, 2, 1, [])
