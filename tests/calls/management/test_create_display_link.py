"""`manage.py create_display_link NAME`: a wallboard screen's path, printed once, for a TV set up
from a shell."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from calls.models import DisplayLink
from calls.wallboard.display_links import link_for_token

pytestmark = pytest.mark.django_db


def test_it_prints_the_path_of_a_new_link_alone_on_stdout(capsys):
    call_command("create_display_link", "TV by the door")
    out, err = capsys.readouterr()
    token = re.fullmatch(r"/display/([A-Za-z0-9_-]{43})/\n", out).group(1)
    link = link_for_token(token, timezone.now())
    assert link == DisplayLink.objects.get() and link.name == "TV by the door"
    assert link.created_by is None
    assert "shown only this once" in err and token not in err


def test_each_run_makes_another_link(capsys):
    call_command("create_display_link", "TV")
    call_command("create_display_link", "TV")
    first, second = capsys.readouterr().out.split()
    assert first != second and DisplayLink.objects.count() == 2


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_it_refuses_an_empty_or_overlong_name(name):
    with pytest.raises(CommandError, match="1 to 100 characters"):
        call_command("create_display_link", name)
    assert not DisplayLink.objects.exists()
