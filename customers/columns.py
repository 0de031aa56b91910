"""Which column of a customer file holds what: English and Turkish names, as people write them.

A header is compared by its letters and digits only, without case or diacritics, so `E-posta`,
`EPOSTA` and `e posta` are the same column, and so are `Adı Soyadı` and `ADI SOYADI`
(docs/customer-import.md lists every name).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from customers.resources import cell_text

NAMES = {
    "id": ["id", "kimlik", "müşteri no"],
    "name": [
        *["name", "full name", "first name", "last name", "surname", "customer", "customer name"],
        *["ad", "adı", "ad soyad", "adı soyadı", "isim", "isim soyisim", "soyad", "soyadı"],
        *["müşteri", "müşteri adı"],
    ],
    "company": [
        *["company", "company name", "organisation", "organization"],
        *["firma", "firma adı", "şirket", "şirket adı", "kurum", "kurum adı"],
    ],
    "phone": [
        *["phone", "phones", "phone number", "phone numbers", "telephone", "mobile", "tel"],
        *["telefon", "telefonlar", "telefon no", "telefon numarası", "telefon numaraları"],
        *["cep", "cep telefonu", "gsm", "numara", "numaralar"],
    ],
    "email": ["email", "e-mail", "mail", "e-posta", "eposta"],
    "notes": [
        *["notes", "note", "comment", "comments"],
        *["notlar", "not", "açıklama", "açıklamalar"],
    ],
}
# Fields a file may spread over several columns (first and last name, home and mobile phone),
# and how their cells are joined, in the file's column order.
JOINED = {"name": " ", "phone": "; "}

_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def header_key(text: str) -> str:
    """`Adı Soyadı` → `adisoyadi`: letters and digits only, lower case, no diacritics."""
    # Dotless ı and dotted İ have no decomposition into i plus a mark: map them first.
    text = str(text).replace("ı", "i").replace("İ", "I")
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_LETTER_OR_DIGIT.sub("", bare.casefold())


_FIELD_OF = {header_key(name): field for field, names in NAMES.items() for name in names}


def field_of(header: str) -> str | None:
    """The customer field a column name stands for, or None."""
    return _FIELD_OF.get(header_key(header))


@dataclass(frozen=True, slots=True)
class ColumnMap:
    columns: dict[str, list[int]]  # field → the indexes of the columns that hold it
    ignored: list[str]  # columns no field reads, by their name in the file

    def cells(self, row: list[object]) -> dict[str, object]:
        """One data row as field → value; joined fields put their non-empty cells together."""
        values = {}
        for field, indexes in self.columns.items():
            if field not in JOINED:
                values[field] = row[indexes[0]]
                continue
            parts = [cell_text(row[i]) for i in indexes if cell_text(row[i])]
            # One column keeps its value as it came (an Excel number cell stays a number).
            values[field] = row[indexes[0]] if len(indexes) == 1 else JOINED[field].join(parts)
        return values


def map_columns(headers: list[object], rows: list[list[object]]) -> ColumnMap:
    """Which column holds which field; raises ValueError, in words, when the file can't say.

    A column without a name is ignored silently when it is empty, else named by its position.
    """
    columns: dict[str, list[int]] = {}
    ignored = []
    for index, header in enumerate(headers):
        name = str(header or "").strip()
        field = field_of(name) if name else None
        if field is None:
            if name or any(cell_text(row[index]) for row in rows):
                ignored.append(name or _("column %(number)d") % {"number": index + 1})
            continue
        if field in columns and field not in JOINED:
            first = str(headers[columns[field][0]]).strip()
            raise ValueError(
                _("The columns '%(first)s' and '%(second)s' both hold %(field)s: keep one.")
                % {"first": first, "second": name, "field": field}
            )
        columns.setdefault(field, []).append(index)
    missing = {"name", "phone"} - set(columns)
    if missing:
        raise ValueError(
            _("The file has no %(columns)s column.") % {"columns": ", ".join(sorted(missing))}
        )
    return ColumnMap(columns=columns, ignored=ignored)
