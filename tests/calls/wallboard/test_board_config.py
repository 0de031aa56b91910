"""What the wallboard reads from the database after each poll: kept while the database is out of
reach, since the live figures do not need it."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from calls.models import WallboardQueue
from calls.wallboard import board_config as config_module
from calls.wallboard.board_config import board_config, forget_board_config

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _read_every_time(monkeypatch):
    monkeypatch.setattr(config_module, "CACHE_SECONDS", 0.0)
    forget_board_config()
    yield
    forget_board_config()


def _rename(table: str, to: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {to}")


def test_the_last_settings_stay_while_the_database_fails_and_it_is_said_once(caplog):
    WallboardQueue.objects.create(queue="630", name="Satış", waiting_red=3)
    assert board_config().names == {"630": "Satış"}

    table = WallboardQueue._meta.db_table
    _rename(table, "gone_for_the_test")  # every read of the table now fails in the database
    try:
        with caplog.at_level(logging.INFO, logger="calls.wallboard.board_config"):
            for _ in range(3):
                config = board_config()
                assert config.names == {"630": "Satış"}
                assert config.thresholds["630"].waiting_red == 3
    finally:
        _rename("gone_for_the_test", table)
    assert caplog.text.count("Cannot read the wallboard's settings") == 1

    WallboardQueue.objects.filter(queue="630").update(name="Satış ekibi")
    with caplog.at_level(logging.INFO, logger="calls.wallboard.board_config"):
        assert board_config().names == {"630": "Satış ekibi"}
    assert "Reading the wallboard's settings again" in caplog.text
