"""Importing a customer file the two ways a user can: the admin's import page and the command."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse


@dataclass(frozen=True)
class Outcome:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    text: str = ""  # what the user reads: the page, or the command's output and errors
    refused: bool = False  # the whole file was refused


ImportFile = Callable[[Path], Outcome]
_SUMMARY = re.compile(r"(\d+) new, (\d+) updated, (\d+) unchanged .*; (\d+) rows rejected")


@pytest.fixture(params=["admin", "command"])
def import_file(request, sam) -> ImportFile:
    """Import a file through the admin (logged in as Sam, who may import) or the command."""
    if request.param == "admin":
        client = Client()
        client.force_login(sam)

        def through_admin(path: Path) -> Outcome:
            upload = io.BytesIO(path.read_bytes())
            upload.name = path.name
            response = client.post(reverse("admin:customers_customer_import"), {"file": upload})
            assert response.status_code == 200
            page = response.content.decode()
            text = page[page.index("<!-- Content -->") : page.index("<!-- END Content -->")]
            report = response.context["report"]
            if report is None:
                return Outcome(text=text, refused=True)
            return Outcome(report.new, report.updated, report.unchanged, len(report.problems), text)

        return through_admin

    def through_command(path: Path) -> Outcome:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("import_customers", str(path), "--user", sam.username, stdout=out,
                         stderr=err)  # fmt: skip
        except CommandError as exc:
            return Outcome(text=str(exc), refused=True)
        summary = _SUMMARY.search(out.getvalue())
        assert summary, out.getvalue()
        new, updated, unchanged, rejected = map(int, summary.groups())
        return Outcome(new, updated, unchanged, rejected, out.getvalue() + err.getvalue())

    return through_command
