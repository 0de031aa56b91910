"""`manage.py sync_cdr --from 2026-11-01 --to 2026-11-28`: backfill call history by day."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from calls.history.cdr_sync import LOCK_WAIT, SyncSummary, day_windows, storing, sync_window
from calls.pbx import PbxError, client_from_settings

BAR_WIDTH = 30


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Copy call detail records from the PBX for a range of days (both days included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")

    def handle(self, *args, **options) -> None:
        first, last = _day(options["first"]), _day(options["last"])
        if last < first:
            raise CommandError("--to is before --from")
        zone = timezone.get_current_timezone()
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last, time.max, tzinfo=zone).replace(microsecond=0)
        windows = list(day_windows(start, end))
        client = client_from_settings()
        total, failed = SyncSummary(), []
        for done, (window_start, window_end) in enumerate(windows, start=1):
            # The store lock, per day: the periodic sync and the sweep go on in between.
            with storing() as locked:
                try:
                    if not locked:
                        failed.append(
                            f"{window_end:%Y-%m-%d}: the periodic sync or the sweep kept the "
                            f"store lock for over {LOCK_WAIT} s"
                        )
                    else:
                        total.add(sync_window(window_start, window_end, client))
                except PbxError as exc:
                    failed.append(f"{window_end:%Y-%m-%d}: {exc}")
            self._progress(done, len(windows), window_end)
        self.stdout.write("")
        self.stdout.write(
            f"fetched {total.fetched}, new {total.new}, updated {total.updated}, "
            f"skipped {total.skipped}"
        )
        for failure in failed:
            self.stderr.write(f"failed {failure} (run the command again for that day)")
        if failed:
            raise CommandError(f"{len(failed)} of {len(windows)} days failed")

    def _progress(self, done: int, total: int, day: datetime) -> None:
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total} days ({day:%Y-%m-%d})", ending="")
        self.stdout.flush()
