"""What a spreadsheet cell of an export may contain: text from outside (the PBX's numbers, results
and queues, customer names and notes) written so that a spreadsheet never runs it as a formula.

Every export (call history, callbacks, customers; CSV and XLSX) passes every cell through
`neutralise_formula`; the customer import undoes it with `restore_formula`, so an exported file
re-imports unchanged (less any control characters, which no spreadsheet cell can hold).
This module depends on nothing of the apps, so `calls` and `customers` can both use it.
"""

from __future__ import annotations

import re

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). Tab and the
# line breaks come first in some spreadsheets' "trim then evaluate".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Phone numbers as the panel writes them (`+905321234567`, several joined by "; "): a spreadsheet
# reads such a cell as a number or as text, and it can name no function, cell or program, so it
# stays readable instead of gaining an apostrophe. `-1+1` is an expression and is neutralised.
_PHONE_NUMBERS = re.compile(r"\+\d{6,15}(?:; \+\d{6,15})*")
NEUTRALISING_PREFIX = "'"  # spreadsheets show a cell starting with an apostrophe as plain text
# The control characters an XLSX file may not hold (openpyxl refuses the whole file for one); tab
# and line breaks are allowed. Kept out of CSV too, so that both formats carry the same text.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _would_run(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS) and not _PHONE_NUMBERS.fullmatch(text)


def neutralise_formula(value: object) -> object:
    """`value` as an export cell: text loses its control characters, then text that a spreadsheet
    would run gets an apostrophe in front; numbers and dates are returned unchanged.

    In this order: a control character in front of `=` would otherwise hide the formula from the
    check, and removing it afterwards would leave a live formula in the file."""
    if not isinstance(value, str):
        return value
    value = _CONTROL_CHARACTERS.sub("", value)
    if _would_run(value):
        return NEUTRALISING_PREFIX + value
    return value


def restore_formula(text: str) -> str:
    """Undo `neutralise_formula` on a cell read back from an exported file."""
    if text.startswith(NEUTRALISING_PREFIX) and _would_run(text[len(NEUTRALISING_PREFIX) :]):
        return text[len(NEUTRALISING_PREFIX) :]
    return text
