"""`manage.py create_display_link "TV by the door"`: a wallboard screen's address, for setting up
a TV from a shell (docs/wallboard-setup.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.models import DisplayLink
from calls.wallboard.display_links import create_display_link, display_path


class Command(BaseCommand):
    help = (
        "Create a wallboard display link and print its path once: the panel's address goes "
        "before it. It cannot be shown again; revoke a link in the admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="where the screen is, e.g. 'TV by the door'")

    def handle(self, *args, **options) -> None:
        name = options["name"].strip()
        limit = DisplayLink._meta.get_field("name").max_length
        if not name or len(name) > limit:
            raise CommandError(f"A name of 1 to {limit} characters, please.")
        link, token = create_display_link(name, None)
        # The path alone on stdout, for a script to take; the words around it on stderr.
        self.stderr.write(
            f"Display link {link.name!r} created. Its path, shown only this once "
            "(put the panel's address, e.g. https://panel.example.com, before it):"
        )
        self.stdout.write(display_path(token))
