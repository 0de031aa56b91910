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
        "Import customers from a CSV or XLSX file with columns name, company, phone "
        "(several separated by ';'), email, notes. Bad rows are reported, good rows imported. "
        "Every import is recorded (who, which file, when, counts) in the admin's customer imports."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file without saving anything."
        )
        parser.add_argument(
            "--user",
            help="The panel user the import is recorded for (default: the operating-system "
            "account running the command).",
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
                username="" if user else _os_account(),
            )
        for problem in report.problems:
            self.stderr.write(f"row {problem.row}: {problem.message}")
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{report.new} new and {report.updated} updated customers {verb} imported; "
            f"{len(report.problems)} rows rejected."
        )


def _os_account() -> str:
    try:
        return getpass.getuser()
    except (
        OSError,
        KeyError,
    ):  # no login name (e.g. a container's numeric uid): say where it came from
        return "unknown"
