"""Start Django for a benchmark on its own, freshly migrated database (SQLite file or PostgreSQL).

Each benchmark runs in its own process because Django is configured once per process, started
from the repository root as `python -m bench.NAME`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
# Checkouts sharing a machine name their own: `BENCH_POSTGRES_DB`, and `TMPDIR` for SQLite.
POSTGRES_DB = os.environ.get("BENCH_POSTGRES_DB", "telsam_bench")


def database_url(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(tempfile.gettempdir()) / 'telsam-bench.sqlite3'}"
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + POSTGRES_DB


def fresh_database(backend: str) -> None:
    """Drop and recreate the benchmark database, then point Django at it and migrate."""
    if backend == "sqlite":
        Path(database_url("sqlite").removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {POSTGRES_DB}")
    start(backend)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start(backend: str) -> None:
    os.environ["DATABASE_URL"] = database_url(backend)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
    os.environ.setdefault("SECRET_KEY", "benchmark-secret-key")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "telsam_panel.settings"
    import django

    django.setup()
