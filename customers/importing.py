"""Reading a customer file and importing it row by row with a report (admin and command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.core.exceptions import ValidationError

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


def read_dataset(path: Path) -> tablib.Dataset:
    """CSV (UTF-8, with or without BOM) or XLSX; every CSV cell stays text."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return tablib.Dataset().load(path.read_bytes(), format="xlsx")
    if suffix == ".csv":
        return tablib.Dataset().load(path.read_text(encoding="utf-8-sig"), format="csv")
    raise ValueError(f"Unsupported file type {suffix!r}: use .csv or .xlsx")


def import_customers_file(path: Path, *, dry_run: bool = False) -> ImportReport:
    """Import every good row of `path`; bad rows come back as problems, nothing else is lost."""
    dataset = read_dataset(path)
    missing = {"name", "phone"} - {h.strip().lower() for h in dataset.headers or []}
    if missing:
        raise ValueError(f"The file has no {', '.join(sorted(missing))} column")
    dataset.headers = [h.strip().lower() for h in dataset.headers]
    result = CustomerResource().import_data(
        dataset, dry_run=dry_run, raise_errors=False, use_transactions=True
    )
    problems = [
        RowProblem(row=invalid.number + 1, message=_describe(invalid.error))
        for invalid in result.invalid_rows
    ]
    problems += [
        RowProblem(row=number + 1, message=f"{type(error.error).__name__}: {error.error}")
        for number, errors in result.row_errors()
        for error in errors
    ]
    return ImportReport(
        new=result.totals["new"],
        updated=result.totals["update"],
        problems=sorted(problems, key=lambda p: p.row),
    )


def _describe(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
