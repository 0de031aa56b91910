"""Phone number normalisation: whatever people type, and whatever the PBX sends, becomes E.164.

`phonenumbers` (Google's libphonenumber metadata) does the parsing. We gate on "possible" rather
than "valid": valid-number metadata lags behind newly opened mobile ranges, and refusing a real
customer's number is worse than accepting an odd one.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

# Internal extensions (3–5 digits) are never phone numbers, whatever a parser would make of them.
MIN_NATIONAL_DIGITS = 7
_DIGITS = re.compile(r"\d")


class InvalidPhoneNumber(ValueError):
    """The text cannot be a phone number."""


def normalize(text: str, region: str | None = None) -> str:
    """Return a number typed by a person as E.164 (`+905321234567`) or raise `InvalidPhoneNumber`.

    Accepts national (`0532 123 45 67`, `5321234567`), international (`+90 (532) 123-45-67`,
    `00905321234567`) and country-code-without-plus (`905321234567`) forms. A national reading
    is preferred: people mostly type home numbers.
    """
    return _parse(text, region, international_first=False)


@lru_cache(maxsize=65_536)
def from_pbx(text: str, region: str | None = None) -> str | None:
    """A number as the PBX sends it (country code without `+`: `442071234567`) → E.164, or None
    for extensions, withheld callers and garbage. The international reading is preferred.

    Cached: the same callers call again and again, and every poll and CDR row asks.
    """
    try:
        return _parse(text, region, international_first=True)
    except InvalidPhoneNumber:
        return None


def _parse(text: str, region: str | None, *, international_first: bool) -> str:
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    raw = str(text).strip()
    digits = "".join(_DIGITS.findall(raw))
    if len(digits) < MIN_NATIONAL_DIGITS:
        raise InvalidPhoneNumber(
            _("'%(number)s' is too short to be a phone number") % {"number": raw}
        )
    candidates = [raw]
    if not raw.startswith(("+", "00")):
        international = "+" + digits
        candidates = [international, raw] if international_first else [raw, international]
    # A reading that is valid beats one that is merely possible, whichever order they came in.
    possible = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if possible is None and phonenumbers.is_possible_number(number):
            possible = number
    if possible is not None:
        return phonenumbers.format_number(possible, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber(_("'%(number)s' is not a possible phone number") % {"number": raw})


def try_normalize(text: str, region: str | None = None) -> str | None:
    """Like `normalize`, but None instead of an error."""
    try:
        return normalize(text, region)
    except InvalidPhoneNumber:
        return None


def is_extension(text: str) -> bool:
    """Internal extensions and queues: a few digits (`110`, `630`)."""
    return text.isdigit() and len(text) < MIN_NATIONAL_DIGITS


def pbx_format(e164: str) -> str:
    """E.164 → the PBX's form: country code and national number, no plus (`905321234567`)."""
    return e164.lstrip("+")


@lru_cache(maxsize=65_536)
def display_number(text: str, region: str | None = None) -> str:
    """How a person writes a PBX number: nationally at home (`0532 123 45 67`), else `+49 30 …`.

    Extensions and anything unparsable are returned as they came. Cached as `from_pbx` is: the
    wallboard shows the same parties after every poll.
    """
    # The cache keys on the arguments as given: the usual call, `from_pbx(text)`, has the entry.
    e164 = from_pbx(text) if region is None else from_pbx(text, region)
    if e164 is None:
        return text
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    parsed = phonenumbers.parse(e164)
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
