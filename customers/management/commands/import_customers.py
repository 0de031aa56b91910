"""`manage.py import_customers FILE.csv|FILE.xlsx`: the admin's import, from the command line."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.importing import import_customers_file


class Command(BaseCommand):
    help = (
        "Import customers from a CSV or XLSX file with columns name, company, phone "
        "(several separated by ';'), email, notes. Bad rows are reported, good rows imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file without saving anything."
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = import_customers_file(path, dry_run=options["dry_run"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for problem in report.problems:
            self.stderr.write(f"row {problem.row}: {problem.message}")
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{report.new} new and {report.updated} updated customers {verb} imported; "
            f"{len(report.problems)} rows rejected."
        )
