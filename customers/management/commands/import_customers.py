"""`manage.py import_customers FILE.csv|FILE.xlsx`: the admin's import, from the command line."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.importing import import_customers_file, record_import
from customers.models import CustomerImport


class Command(BaseCommand):
    help = (
        "Import customers from a CSV (UTF-8 or Windows-1254; ',', ';' or tab) or XLSX file with "
        "columns name, company, phone (several separated by ';'), email, notes, in English or "
        "Turkish. Bad rows are reported, good rows imported; a row's number finds the customer "
        "it updates. Every import is recorded for the panel user named with --user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file without saving anything."
        )
        parser.add_argument(
            "--user",
            help="The panel user the import is made for (required unless --dry-run): the "
            "import trail and each changed customer's history name them.",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No such user: {options['user']}")
        elif not options["dry_run"]:
            # The admin's history of a customer names a panel user for every change.
            raise CommandError(
                "Name the panel user this import is made for with --user USERNAME: the import "
                "trail and the history of every customer it changes record who made it."
            )
        try:
            report = import_customers_file(path, dry_run=options["dry_run"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not options["dry_run"]:
            record_import(
                report,
                file_name=path.name,
                source=CustomerImport.Source.COMMAND,
                user=user,
                os_account=_os_account(),
            )
        for problem in report.problems:
            self.stderr.write(f"row {problem.row}: {problem.message}")
        if report.ignored_columns:
            self.stderr.write(f"Columns not imported: {', '.join(report.ignored_columns)}")
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged "
            f"customers {verb} imported; {len(report.problems)} rows rejected."
        )


def _os_account() -> str:
    try:
        return getpass.getuser()
    except (
        OSError,
        KeyError,
    ):  # no login name (e.g. a container's numeric uid): say where it came from
        return "unknown"
