"""Reading a customer file and importing it row by row with a report (admin and command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.models import CustomerImport
from customers.resources import CustomerResource


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # 1-based, counting the header as row 1, as a spreadsheet shows it
    message: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    new: int
    updated: int
    problems: list[RowProblem] = field(default_factory=list)


def read_dataset(name: str, content: bytes) -> tablib.Dataset:
    """CSV (UTF-8, with or without BOM) or XLSX, by file name; every CSV cell stays text."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return tablib.Dataset().load(content, format="xlsx")
    if suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(_("The CSV file is not UTF-8: save it as 'CSV UTF-8'.")) from None
        return tablib.Dataset().load(text, format="csv")
    raise ValueError(
        _("Unsupported file type '%(suffix)s': use .csv or .xlsx.") % {"suffix": suffix}
    )


def import_customers_file(path: Path, *, dry_run: bool = False) -> ImportReport:
    """Import every good row of the file at `path` (see `import_customers`)."""
    return import_customers(read_dataset(path.name, path.read_bytes()), dry_run=dry_run)


def import_customers(dataset: tablib.Dataset, *, dry_run: bool = False) -> ImportReport:
    """Import every good row; bad rows come back as problems, nothing else is lost."""
    dataset.headers = [str(h or "").strip().lower() for h in dataset.headers or []]
    missing = {"name", "phone"} - set(dataset.headers)
    if missing:
        raise ValueError(
            _("The file has no %(columns)s column.") % {"columns": ", ".join(sorted(missing))}
        )
    # Without one enclosing transaction: with it, import-export rolls every row back as soon as
    # one row fails, and the good rows would be lost with the bad.
    result = CustomerResource().import_data(
        dataset, dry_run=dry_run, raise_errors=False, use_transactions=False
    )
    problems = [
        RowProblem(row=invalid.number + 1, message=_describe(invalid.error))
        for invalid in result.invalid_rows
    ]
    problems += [
        RowProblem(row=number + 1, message=str(error.error))
        for number, errors in result.row_errors()
        for error in errors
    ]
    return ImportReport(
        new=result.totals["new"],
        updated=result.totals["update"],
        problems=sorted(problems, key=lambda p: p.row),
    )


def record_import(
    report: ImportReport,
    *,
    file_name: str,
    source: CustomerImport.Source,
    user: AbstractBaseUser | None = None,
    username: str = "",
) -> CustomerImport:
    """Write who imported which file, when, and with what result, into the audit trail.

    `username` defaults to the user's; the command line passes the operating-system account when
    no panel user is named.
    """
    return CustomerImport.objects.create(
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        source=source,
        file_name=Path(file_name).name[:255],
        new=report.new,
        updated=report.updated,
        rejected=len(report.problems),
    )


def _describe(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
