"""Reading a customer file and importing it row by row with a report (admin and command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export.results import RowResult

from customers.columns import map_columns
from customers.file_reading import read_table
from customers.models import Customer, CustomerImport
from customers.resources import CustomerResource

LOG_CHUNK = 1000  # customers per query when writing their history entries


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # 1-based, counting the header as row 1, as a spreadsheet shows it
    message: str


@dataclass(frozen=True, slots=True)
class CustomerFile:
    dataset: tablib.Dataset  # our column names (`name`, `phone`, …), one row per file row
    ignored_columns: list[str] = field(default_factory=list)  # named as in the file


@dataclass(frozen=True, slots=True)
class ImportReport:
    new: int
    updated: int
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)


def read_dataset(name: str, content: bytes, *, max_rows: int | None = None) -> CustomerFile:
    """A CSV/TSV or XLSX file's rows under our column names; ValueError in words if unreadable,
    or if it has more than `max_rows` rows (the admin page's limit, so the request ends in time;
    the rows past it are not read).

    Which encoding, delimiter and column names a file may have: `customers.file_reading` and
    `customers.columns` (docs/customer-import.md).
    """
    headers, rows = read_table(name, content, max_rows=max_rows)
    columns = map_columns(headers, rows)
    # `id` is always there (empty: find the customer by number, or add one); the other columns
    # only if the file has them, so an update leaves a column the file lacks as it was.
    names = ["id", *(f for f in columns.columns if f != "id")]
    dataset = tablib.Dataset(headers=names)
    for row in rows:
        cells = columns.cells(row)
        dataset.append([cells.get(name, "") for name in names])
    return CustomerFile(dataset=dataset, ignored_columns=columns.ignored)


def import_customers_file(path: Path, *, dry_run: bool = False) -> ImportReport:
    """Import every good row of the file at `path` (see `import_customers`)."""
    return import_customers(read_dataset(path.name, path.read_bytes()), dry_run=dry_run)


def import_customers(customer_file: CustomerFile, *, dry_run: bool = False) -> ImportReport:
    """Import every good row; bad rows come back as problems, nothing else is lost."""
    # Without one enclosing transaction: with it, import-export rolls every row back as soon as
    # one row fails, and the good rows would be lost with the bad.
    resource = CustomerResource()
    result = resource.import_data(
        customer_file.dataset, dry_run=dry_run, raise_errors=False, use_transactions=False
    )
    if result.base_errors:  # not a row's fault (the database failed): say so, don't report
        raise result.base_errors[0].error
    problems = [
        RowProblem(row=invalid.number + 1, message=_describe(invalid.error))
        for invalid in result.invalid_rows
    ]
    problems += [
        RowProblem(row=number + 1, message=str(error.error))
        for number, errors in result.row_errors()
        for error in errors
    ]
    # Rows are written a chunk at a time, after their result: the database refused these.
    refused = {
        id(r.instance): r.instance for r in result.rows if id(r.instance) in resource.unwritten
    }
    problems += [
        RowProblem(row=number + 1, message=resource.unwritten[key])
        for key, customer in refused.items()
        for number in customer._rows
    ]

    def rows(import_type: str) -> list:
        return [
            r for r in result.rows if r.import_type == import_type and id(r.instance) not in refused
        ]

    def ids(import_type: str) -> list[int]:
        # The instance, not `object_id`: new customers get their id when their chunk is written.
        return [r.instance.pk for r in rows(import_type)]

    return ImportReport(
        new=len(rows(RowResult.IMPORT_TYPE_NEW)),
        updated=len(rows(RowResult.IMPORT_TYPE_UPDATE)),
        unchanged=result.totals[RowResult.IMPORT_TYPE_SKIP],
        problems=sorted(problems, key=lambda p: p.row),
        ignored_columns=customer_file.ignored_columns,
        new_ids=[] if dry_run else ids(RowResult.IMPORT_TYPE_NEW),
        updated_ids=[] if dry_run else ids(RowResult.IMPORT_TYPE_UPDATE),
    )


def record_import(
    report: ImportReport,
    *,
    file_name: str,
    source: CustomerImport.Source,
    user: AbstractBaseUser,
    os_account: str = "",
) -> CustomerImport:
    """Write who imported which file, when, and with what result, into the audit trail, and
    into the admin history of every customer the import added or changed.

    `os_account`: the operating-system account that ran the command line, named in the history.
    """
    file_name = Path(file_name).name[:255]
    where = str(source.label)
    if os_account:
        where = _("%(source)s, operating-system account %(account)s") % {
            "source": where,
            "account": os_account,
        }
    message = _("Imported from the file “%(file)s” (%(source)s).") % {
        "file": file_name,
        "source": where,
    }
    for action, ids in ((ADDITION, report.new_ids), (CHANGE, report.updated_ids)):
        # In chunks: one `IN (…)` for a whole file would pass SQLite's limit of query parameters.
        for start in range(0, len(ids), LOG_CHUNK):
            chunk = Customer.objects.filter(pk__in=ids[start : start + LOG_CHUNK]).order_by()
            LogEntry.objects.log_actions(user.pk, chunk, action, change_message=message)
    return CustomerImport.objects.create(
        user=user,
        username=user.get_username()[:150],
        source=source,
        file_name=file_name,
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
