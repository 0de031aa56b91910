"""Numbers typed in any format, and the PBX's own format, become the same E.164 number."""

from __future__ import annotations

import pytest

from customers.phones import (
    InvalidPhoneNumber,
    display_number,
    from_pbx,
    normalize,
    pbx_format,
    try_normalize,
)


@pytest.mark.parametrize(
    "typed",
    [
        "0532 123 45 67",
        "+90 (532) 123-45-67",
        "905321234567",
        "5321234567",
        "00905321234567",
        "+905321234567",
        "0 532 123 4567",
    ],
)
def test_it_normalises_every_way_of_writing_a_mobile_number(typed):
    assert normalize(typed, "TR") == "+905321234567"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0212 555 12 34", "+902125551234"),
        ("0 850 259 90 29", "+908502599029"),
        ("908502591093", "+908502591093"),
        ("+49 30 1234567", "+49301234567"),
    ],
)
def test_it_normalises_fixed_lines_and_foreign_numbers(typed, e164):
    assert normalize(typed, "TR") == e164


@pytest.mark.parametrize("typed", ["110", "1001", "", "abc", "12345"])
def test_it_never_takes_an_extension_or_garbage_for_a_phone_number(typed):
    with pytest.raises(InvalidPhoneNumber):
        normalize(typed, "TR")
    assert try_normalize(typed, "TR") is None


def test_it_writes_numbers_the_way_the_pbx_sends_them():
    assert pbx_format("+905321234567") == "905321234567"


@pytest.mark.parametrize(
    ("sent", "e164"),
    [
        ("905321234567", "+905321234567"),
        ("442071234567", "+442071234567"),  # a London caller: not a Turkish national number
        ("4930123456", "+4930123456"),
        ("05321234567", "+905321234567"),  # some trunks send the national form
        ("+905321234567", "+905321234567"),
    ],
)
def test_it_reads_pbx_numbers_as_country_code_without_plus(sent, e164):
    assert from_pbx(sent, "TR") == e164


@pytest.mark.parametrize("sent", ["110", "630", "", "anonymous", "Bilinmiyor"])
def test_it_reads_extensions_and_withheld_callers_as_no_number(sent):
    assert from_pbx(sent, "TR") is None


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("905321234567", "0532 123 45 67"),
        ("442071234567", "+44 20 7123 4567"),
        ("110", "110"),
        ("anonymous", "anonymous"),
    ],
)
def test_it_displays_pbx_numbers_the_way_people_write_them(sent, shown):
    assert display_number(sent, "TR") == shown
