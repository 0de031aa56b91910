"""Customer files as spreadsheets really save them: Turkish Excel's `;` and Windows-1254,
UTF-8 with a byte-order mark, tabs, ISO-8859-9, Turkish column names; XLSX as before."""

from __future__ import annotations

import codecs
import csv
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.importing import import_customers_file, read_dataset
from customers.models import Customer, PhoneNumber

pytestmark = pytest.mark.django_db

# Every Turkish letter, capital İ included; the notes hold characters only Windows-1254 has
# (curly quotes, en dash, euro sign) next to Turkish ones.
TURKISH_ROWS = [
    ("Şükrü Çağlayan", "Öztürk Ltd. Şti.", "0532 123 45 67", "sukru@example.com", "“VIP” – 5€"),
    ("İlkay Işık", "Gökçe Gıda", "0212 555 12 34; 0533 765 43 21", "", "ığüşöç İĞÜŞÖÇ"),
    ("Bozuk Numara", "X", "12", "", ""),  # a bad row: reported, the others imported
]
TURKISH_HEADER = "Ad Soyad;Firma;Telefon;E-posta;Notlar"


def turkish_excel_csv(rows=TURKISH_ROWS, header=TURKISH_HEADER, sep=";") -> str:
    """As Excel writes it: CRLF line ends, a cell holding the delimiter in quotes."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header.split(";"))
    writer.writerows(rows)
    return text.getvalue()


def assert_turkish_customers_imported(outcome) -> None:
    assert (outcome.new, outcome.rejected) == (2, 1), outcome.text
    sukru = Customer.objects.get(name="Şükrü Çağlayan")
    assert (sukru.company, sukru.email, sukru.notes) == (
        "Öztürk Ltd. Şti.",
        "sukru@example.com",
        "“VIP” – 5€",
    )
    ilkay = Customer.objects.get(name="İlkay Işık")
    assert ilkay.notes == "ığüşöç İĞÜŞÖÇ"
    assert sorted(ilkay.phones.values_list("number", flat=True)) == [
        "+902125551234",
        "+905337654321",
    ]
    assert not Customer.objects.filter(name="Bozuk Numara").exists()


def test_a_turkish_excel_csv_in_windows_1254_with_semicolons_imports(tmp_path, import_file):
    path = tmp_path / "müşteriler.csv"
    path.write_bytes(turkish_excel_csv().encode("cp1254"))

    outcome = import_file(path)

    assert_turkish_customers_imported(outcome)
    assert "olamayacak kadar kısa" in outcome.text  # the bad row's reason, in Turkish


def test_excel_csv_utf_8_with_a_byte_order_mark_imports(tmp_path, import_file):
    path = tmp_path / "musteriler.csv"
    path.write_bytes(codecs.BOM_UTF8 + turkish_excel_csv().encode("utf-8"))

    assert_turkish_customers_imported(import_file(path))


def test_a_tab_delimited_file_imports(tmp_path, import_file):
    path = tmp_path / "musteriler.tsv"
    path.write_bytes(turkish_excel_csv(header="name;company;phone;email;notes", sep="\t").encode())

    assert_turkish_customers_imported(import_file(path))


def test_an_iso_8859_9_file_with_capitalised_english_headers_imports(tmp_path, import_file):
    rows = [(*row[:4], "ığüşöç İĞÜŞÖÇ") for row in TURKISH_ROWS]  # Latin-5 has no “ – €
    rows[0] = (*rows[0][:4], "İyi müşteri")
    path = tmp_path / "latin5.csv"
    path.write_bytes(
        turkish_excel_csv(rows, header="Name;Company;Phone;E-Mail;Notes", sep=",").encode(
            "iso8859_9"
        )
    )

    outcome = import_file(path)

    assert (outcome.new, outcome.rejected) == (2, 1), outcome.text
    assert Customer.objects.get(name="Şükrü Çağlayan").notes == "İyi müşteri"
    assert Customer.objects.get(name="İlkay Işık").company == "Gökçe Gıda"


@pytest.mark.parametrize(
    "header",
    [
        "AD SOYAD;FİRMA;TELEFON;E-POSTA;NOTLAR",
        "adı soyadı;şirket;telefon numarası;eposta;açıklama",
        "İsim;Firma Adı;Cep Telefonu;Mail;Not",
    ],
)
def test_turkish_column_names_are_read_whatever_their_case_and_letters(tmp_path, header):
    path = tmp_path / "c.csv"
    path.write_bytes(turkish_excel_csv(header=header).encode("cp1254"))

    report = import_customers_file(path)

    assert (report.new, len(report.problems)) == (2, 1)
    assert Customer.objects.get(name="Şükrü Çağlayan").email == "sukru@example.com"


def test_first_and_last_names_and_several_phone_columns_are_joined(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Ad;Soyad;Telefon;Cep Telefonu\nAyşe;Yılmaz;0212 555 12 34;0532 123 45 67\n")

    report = import_customers_file(path)

    assert (report.new, report.problems) == (1, [])
    ayse = Customer.objects.get()
    assert ayse.name == "Ayşe Yılmaz"
    assert sorted(ayse.phones.values_list("number", flat=True)) == [
        "+902125551234",
        "+905321234567",
    ]


def test_columns_that_are_not_imported_are_named_in_the_report(tmp_path, import_file):
    path = tmp_path / "c.csv"
    path.write_text("Ad Soyad;Telefon;Adres\nAyşe;0532 123 45 67;Kadıköy\n")

    outcome = import_file(path)

    assert outcome.new == 1
    assert "Adres" in outcome.text


def test_two_columns_for_the_same_field_are_refused_in_words(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name;phone;E-posta;email\nAyşe;0532 123 45 67;a@example.com;b@example.com\n")

    with pytest.raises(ValueError, match=r"E-posta.*email"):
        import_customers_file(path)
    assert not Customer.objects.exists()


def test_an_excel_sep_line_chooses_the_delimiter(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("sep=;\nname;phone;notes\nAyşe;0532 123 45 67;a, b, c\n")

    assert import_customers_file(path).new == 1
    assert Customer.objects.get().notes == "a, b, c"


def test_a_file_that_is_not_text_is_refused_in_words(tmp_path, import_file):
    path = tmp_path / "c.csv"
    path.write_bytes(bytes(range(256)) * 64)

    outcome = import_file(path)

    assert outcome.refused
    assert "CSV" in outcome.text
    assert not Customer.objects.exists()


def test_an_xlsx_with_turkish_headers_imports(tmp_path, import_file):
    book = openpyxl.Workbook()
    book.active.append(TURKISH_HEADER.split(";"))
    for row in TURKISH_ROWS:
        book.active.append(list(row))
    book.active.append(["Excel Sayı", "", 5441112233, "", ""])  # a number cell
    book.save(tmp_path / "c.xlsx")

    outcome = import_file(tmp_path / "c.xlsx")

    assert (outcome.new, outcome.rejected) == (3, 1), outcome.text
    assert PhoneNumber.objects.get(customer__name="Excel Sayı").number == "+905441112233"


def test_excel_unicode_text_utf_16_tab_delimited_imports(tmp_path):
    path = tmp_path / "unicode.txt"
    text = turkish_excel_csv(sep="\t")
    path.write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Excel writes it

    report = import_customers_file(path)

    assert (report.new, len(report.problems)) == (2, 1)
    assert Customer.objects.get(name="İlkay Işık").notes == "ığüşöç İĞÜŞÖÇ"


_FILE_LIKE_TEXT = st.text(alphabet=list('name,phone;\t"\r\n=x ığİ\x00'), max_size=200)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.just(b"PK\x03\x04") | st.binary(max_size=40).map(lambda b: b"PK\x03\x04" + b),
        _FILE_LIKE_TEXT.map(str.encode),
        _FILE_LIKE_TEXT.map(lambda t: ("name;phone\n" + t).encode("cp1254", "replace")),
    ),
    name=st.sampled_from(["a.csv", "a.xlsx", "a.txt", "a.tsv"]),
)
def test_any_bytes_are_read_or_refused_in_words_never_a_crash(content, name):
    try:
        read_dataset(name, content)
    except ValueError as exc:
        assert str(exc)  # the page and the command show this message
