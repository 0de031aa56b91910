"""Phone number normalisation: whatever people type, and whatever the PBX sends, becomes E.164.

`phonenumbers` (Google's libphonenumber metadata) does the parsing. We gate on "possible" rather
than "valid": valid-number metadata lags behind newly opened mobile ranges, and refusing a real
customer's number is worse than accepting an odd one.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings

# Internal extensions (3–5 digits) are never phone numbers, whatever a parser would make of them.
MIN_NATIONAL_DIGITS = 7
_DIGITS = re.compile(r"\d")


class InvalidPhoneNumber(ValueError):
    """The text cannot be a phone number."""


def normalize(text: str, region: str | None = None) -> str:
    """Return `text` as E.164 (`+905321234567`) or raise `InvalidPhoneNumber`.

    Accepts national (`0532 123 45 67`, `5321234567`), international (`+90 (532) 123-45-67`,
    `00905321234567`) and the PBX's own country-code-without-plus form (`905321234567`).
    """
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    raw = str(text).strip()
    digits = "".join(_DIGITS.findall(raw))
    if len(digits) < MIN_NATIONAL_DIGITS:
        raise InvalidPhoneNumber(f"{raw!r} is too short to be a phone number")
    candidates = [raw]
    if not raw.startswith(("+", "00")):
        # The PBX writes international numbers as country code + national number without "+".
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber(f"{raw!r} is not a possible phone number")


def try_normalize(text: str, region: str | None = None) -> str | None:
    """Like `normalize`, but None for extensions and garbage (for matching PBX numbers)."""
    try:
        return normalize(text, region)
    except InvalidPhoneNumber:
        return None


def pbx_format(e164: str) -> str:
    """E.164 → the PBX's form: country code and national number, no plus (`905321234567`)."""
    return e164.lstrip("+")


def is_phone_number(text: str) -> bool:
    """True for outside numbers, False for extensions, queues and empty values."""
    return try_normalize(text) is not None


def display_number(text: str, region: str | None = None) -> str:
    """How a person writes the number: nationally at home (`0532 123 45 67`), else `+49 30 …`.

    Extensions and anything unparsable are returned as they came.
    """
    e164 = try_normalize(text, region)
    if e164 is None:
        return text
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    parsed = phonenumbers.parse(e164)
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
