"""Markup in data is shown as text everywhere, never run: customer names, companies and notes
(typed in the admin or imported), what the PBX sends (caller ids, queues, user fields), a user's
own name, and what an import file contains. Each page is parsed as a browser would and searched for
elements or event handlers the data could have created. (The panel's rows and screen-pops are drawn
by JavaScript: tests/security/test_escaping_browser.py.)"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser

import openpyxl
import pytest
import tablib
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.history.cdr_sync import sync_recent
from customers.models import Customer
from customers.services import customer_create
from tests.support.export_files import body, csv_rows
from tests.support.personas import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_redis")]

NAME = "<img src=x onerror=alert(1)>"
COMPANY = '"><svg onload=alert(2)>'
NOTES = "<script>alert('notes')</script>"
USER_NAME = "<b onmouseover=alert(3)>Alice</b>"
CALLER_ID = "<svg/onload=alert(4)>"  # the PBX passes on whatever a caller's SIP client says
QUEUE = "<i onclick=alert(5)>"
USERFIELD = "<img src=y onerror=alert(6)>"
PHONE = "0532 123 45 67"
PBX_NUMBER = "905321234567"


class Page(HTMLParser):
    """The elements and text of a page, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self.text: list[str] = []
        self._in_script: dict[str, str | None] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            if "src" not in self._in_script and self._in_script.get("type") != "application/json":
                self.inline_scripts.append(data)
        else:
            self.text.append(data)

    def shown(self, value: str) -> bool:
        """Whether `value` is shown as text somewhere (or sits in an attribute, as in a form)."""
        attributes = [v for _, attrs in self.elements for v in attrs.values() if v]
        return value in "".join(self.text) or value in attributes

    def assert_inert(self) -> None:
        handlers = [
            (tag, name) for tag, attrs in self.elements for name in attrs if name.startswith("on")
        ]
        assert handlers == [], f"event handlers created from data: {handlers}"
        assert self.inline_scripts == [], f"inline scripts: {self.inline_scripts}"
        # Every payload carries an event handler or is a script; the images also point at x or y.
        images = [
            attrs for tag, attrs in self.elements if tag == "img" and attrs.get("src") in ("x", "y")
        ]
        assert images == [], f"images planted by data: {images}"


@pytest.fixture
def planted(pbx_settings, sam, alice):
    """Markup wherever data enters: the customer (admin), the PBX's history, a user's name."""
    alice.first_name = USER_NAME
    alice.save()
    customer = customer_create(name=NAME, company=COMPANY, notes=NOTES, phones=[PHONE])
    now = timezone.now()
    sim = pbx_settings.sim
    sim.add_cdr(
        PBX_NUMBER,
        "110",
        started_at=now - timedelta(minutes=5),
        disposition="NO ANSWER",
        queue=QUEUE,
        userfield=USERFIELD,
    )
    sim.add_cdr(CALLER_ID, "110", started_at=now - timedelta(minutes=4), direction="in")
    summary = sync_recent()
    assert summary.skipped == 0
    # A change in the admin: its history lists the customer by name.
    admin = logged_in(sam)
    response = admin.post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        {
            "name": NAME,
            "company": COMPANY,
            "email": "",
            "notes": NOTES + " (edited)",
            "phones-TOTAL_FORMS": "1",
            "phones-INITIAL_FORMS": "1",
            "phones-MIN_NUM_FORMS": "0",
            "phones-MAX_NUM_FORMS": "1000",
            "phones-0-id": str(customer.phones.get().pk),
            "phones-0-customer": str(customer.pk),
            "phones-0-number": PHONE,
            "phones-0-label": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    return customer


def page(client: Client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html")
    return Page(response.content.decode())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/history/", [NAME, CALLER_ID, QUEUE]),
        ("/callbacks/", [NAME]),
        ("/stats/", [QUEUE]),
        ("/admin/customers/customer/", [NAME, COMPANY]),
        (f"/admin/customers/customer/?q={PHONE}", [NAME]),
        # With the customer's recent calls (the timeline) under the form.
        ("/admin/customers/customer/{pk}/change/", [NAME, COMPANY, NOTES + " (edited)", "110"]),
        ("/admin/customers/customer/{pk}/history/", [NAME]),
        ("/admin/customers/customer/{pk}/delete/", [NAME]),
        ("/admin/", [NAME]),  # "recent actions"
    ],
)
def test_pages_show_markup_from_data_as_text(planted, sam, url, shown):
    html = page(logged_in(sam), url.format(pk=planted.pk))
    html.assert_inert()
    for value in shown:
        assert html.shown(value), f"{value} not shown on {url}"


@pytest.mark.parametrize("url", ["/", "/history/", "/profile/", "/admin/"])
def test_a_users_own_name_is_text_in_the_header(planted, alice, url):
    html = page(logged_in(alice), url)
    html.assert_inert()
    assert html.shown(USER_NAME) or url == "/admin/"


def test_the_admin_message_after_saving_names_the_customer_as_text(planted, sam):
    client = logged_in(sam)
    response = client.post(
        reverse("admin:customers_customer_add"),
        {
            "name": NAME + "2",
            "company": "",
            "email": "",
            "notes": "",
            "phones-TOTAL_FORMS": "0",
            "phones-INITIAL_FORMS": "0",
            "phones-MIN_NUM_FORMS": "0",
            "phones-MAX_NUM_FORMS": "1000",
        },
        follow=True,
    )
    html = Page(response.content.decode())
    html.assert_inert()
    assert html.shown(NAME + "2")


def test_the_caller_card_is_json_data_that_no_browser_reads_as_a_page(planted, alice):
    response = logged_in(alice).get(reverse("calls:caller"), {"number": PBX_NUMBER})
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    [card] = response.json()["customers"]
    assert (card["name"], card["company"], card["notes"]) == (NAME, COMPANY, NOTES + " (edited)")


def test_an_import_report_shows_the_files_markup_as_text(sam):
    content = tablib.Dataset(
        [NAME, "A", "<b onclick=alert(7)>12", "", ""],
        ["Ok", "B", "0532 123 45 68", "<svg onload=alert(8)>", ""],
        headers=["name", "company", "phone", "email", "notes"],
    ).csv.encode()
    upload = io.BytesIO(content)
    upload.name = "<img src=x onerror=alert(9)>.csv"
    response = logged_in(sam).post(reverse("admin:customers_customer_import"), {"file": upload})
    assert response.status_code == 200
    html = Page(response.content.decode())
    html.assert_inert()
    assert len(response.context["report"].problems) == 2


def test_exports_hold_the_markup_as_plain_cells(planted, sam):
    client = logged_in(sam)
    customers = client.post(
        reverse("admin:customers_customer_export"),
        {
            "format": "0",
            "resource": "0",
            **{
                f"customerresource_{f}": "on"
                for f in ["id", "name", "company", "phone", "email", "notes"]
            },
        },
    )
    assert customers["Content-Type"].startswith("text/csv")
    assert customers["Content-Disposition"].startswith("attachment")
    [row] = csv.DictReader(io.StringIO(customers.content.decode("utf-8-sig")))
    assert (row["name"], row["company"]) == (NAME, COMPANY)

    history = client.get("/history/", {"export": "csv"})
    assert history["Content-Disposition"].startswith("attachment")
    rows = csv_rows(history)
    assert {r["customer"] for r in rows} == {NAME, ""}
    assert USERFIELD in {r["userfield"] for r in rows}

    workbook = client.get("/history/", {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(body(workbook))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert NAME in {c.value for c in cells}
    assert {c.data_type for c in cells} <= {"s", "inlineStr", "n"}, "a formula (f) in the export"


def test_the_change_was_logged_under_the_name_as_typed(planted):
    assert LogEntry.objects.get().object_repr == f"{NAME} ({COMPANY})"
    assert Customer.objects.get().name == NAME
