"""The panel's pages and endpoints: login, language, the agent's settings, the caller card."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from calls.models import AgentProfile
from customers.services import customer_create
from tests.support import personas
from tests.support.personas import logged_in

pytestmark = pytest.mark.django_db


def panel_config(response) -> dict:
    page = response.content.decode()
    start = page.index('<script id="panel-config" type="application/json">') + 50
    return json.loads(page[start : page.index("</script>", start)])


def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get(reverse("calls:panel"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_shows_the_login_page_in_turkish_even_to_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Giriş yap" in response.content.decode()
    assert 'lang="tr"' in response.content.decode()


def test_it_shows_the_panel_to_an_agent_in_turkish(alice):
    response = logged_in(alice).get(reverse("calls:panel"))
    assert response.status_code == 200
    assert "Aktif çağrılar" in response.content.decode()


def test_it_switches_to_english(alice):
    client = logged_in(alice)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    page = response.content.decode()
    assert "Active calls" in page
    assert 'lang="en"' in page


def test_the_javascript_strings_are_translated_too(client):
    catalog = client.get(reverse("javascript-catalog")).content.decode()
    assert "Bilinmeyen arayan" in catalog


def test_only_a_supervisor_gets_the_hangup_controls(alice, sam):
    assert panel_config(logged_in(alice).get("/"))["canHangup"] is False
    page = logged_in(sam).get("/")
    assert panel_config(page)["canHangup"] is True
    assert b'id="hangup-dialog"' in page.content


def test_only_those_who_may_write_call_work_get_the_rows_note(alice):
    assert panel_config(logged_in(alice).get("/"))["canWriteWork"] is True
    reader = personas.create(personas.Persona("rita", "rita-pass-123", None))
    reader.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_callrecord", "view_customer"])
    )
    assert panel_config(logged_in(reader).get("/"))["canWriteWork"] is False


def test_an_agent_sets_their_extensions(alice):
    client = logged_in(alice)
    response = client.post(reverse("calls:profile"), {"extensions": "110;111 110"})
    assert response.status_code == 302
    assert AgentProfile.objects.get(user=alice).extension_list == ["110", "111"]
    assert panel_config(client.get("/"))["extensions"] == ["110", "111"]


def test_an_extension_must_be_a_few_digits(alice):
    response = logged_in(alice).post(reverse("calls:profile"), {"extensions": "110, 05321234567"})
    assert response.status_code == 200
    assert "Dahili numara değil: 05321234567" in response.content.decode()


def test_only_supervisors_may_ask_for_every_pop(alice, sam):
    logged_in(alice).post(reverse("calls:profile"), {"extensions": "110", "pop_all_calls": "on"})
    assert AgentProfile.objects.get(user=alice).pop_all_calls is False
    logged_in(sam).post(reverse("calls:profile"), {"extensions": "", "pop_all_calls": "on"})
    assert panel_config(logged_in(sam).get("/"))["popAll"] is True


def test_the_caller_card_shows_every_customer_behind_a_number(alice):
    customer_create(
        name="Selin", company="Yılmaz Tekstil", notes="Muhasebe", phones=["0212 555 12 34"]
    )
    customer_create(
        name="Ayşe", company="Yılmaz Tekstil", phones=["+90 212 555 12 34", "0532 1234567"]
    )
    card = logged_in(alice).get(reverse("calls:caller"), {"number": "902125551234"}).json()
    assert card["display"] == "(0212) 555 12 34"
    assert [c["name"] for c in card["customers"]] == ["Ayşe", "Selin"]
    assert card["customers"][0]["phones"] == ["(0212) 555 12 34", "0532 123 45 67"]
    assert card["customers"][1]["notes"] == "Muhasebe"


def test_the_unknown_caller_card_links_to_a_prefilled_add_form(alice):
    client = logged_in(alice)
    card = client.get(reverse("calls:caller"), {"number": "905559998877"}).json()
    assert card["customers"] == []
    form = client.get(card["add_url"])
    assert form.status_code == 200
    assert 'value="0555 999 88 77"' in form.content.decode()


def test_the_caller_card_needs_a_login(client):
    assert client.get(reverse("calls:caller"), {"number": "905321234567"}).status_code == 302


def test_the_favicon_is_found_where_browsers_look(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url.endswith("img/favicon.svg")
