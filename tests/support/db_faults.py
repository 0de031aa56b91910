"""A database that refuses one kind of write to one table, for tests of what survives it.

A trigger raises on every INSERT or UPDATE of the table, as a full disk, a lost connection or a
failing constraint would: the code under test meets a real `DatabaseError` from the real database.
The trigger lives in the test's transaction, so it is gone when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

MESSAGE = "refused by the test"


@contextmanager
def refusing(operation: str, table: str) -> Iterator[None]:
    """While inside, every `operation` ("insert" or "update") on `table` fails."""
    assert operation in ("insert", "update")
    name = f"test_refuse_{operation}_{table}"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        else:
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER {name}")
            else:
                cursor.execute(f"DROP TRIGGER {name} ON {table}")
                cursor.execute(f"DROP FUNCTION {name}()")
