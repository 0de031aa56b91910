"""`manage.py simulate_pbx`: run a fake Telsam PBX with live traffic, for demos and manual tests."""

from __future__ import annotations

import secrets
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from calls.simulator import PbxSimulator, SimulatorServer

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def caller_pool_from_db() -> list[str]:
    """Customers' numbers in the PBX's form, so simulated callers match demo customers.

    Raises DatabaseError when the table is missing (migrations not run yet).
    """
    from customers.models import PhoneNumber
    from customers.phones import pbx_format

    return [pbx_format(n) for n in PhoneNumber.objects.values_list("number", flat=True)]


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Run a simulated Telsam PBX speaking the real HTTP API (V1 on /, V2 on /api/old/get) with "
        "a control API on /_sim/. Runs until Ctrl-C."
    )
    # The simulator must start even while the project is half configured (no PBX URL yet, ...).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1)."
        )
        parser.add_argument("--port", type=int, default=8081, help="Port (default 8081, 0 = any).")
        parser.add_argument(
            "--seed", type=int, default=None, help="Seed of the traffic (default: random, printed)."
        )
        parser.add_argument(
            "--no-traffic", action="store_true", help="No calls of its own: drive it via /_sim/."
        )
        parser.add_argument(
            "--username", default=None, help="API user to accept (default TELSAM_API_USERNAME)."
        )
        parser.add_argument(
            "--password",
            default=None,
            help="API password to accept (default TELSAM_API_PASSWORD; prefer the setting, as "
            "command lines are visible to other users).",
        )
        parser.add_argument(
            "--mean-gap", type=float, default=6.0, help="Mean seconds between calls (default 6)."
        )
        parser.add_argument(
            "--max-concurrent", type=int, default=8, help="Most calls at once (default 8)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"] or settings.TELSAM_API_USERNAME
        password = options["password"] or settings.TELSAM_API_PASSWORD
        if not username or not password:
            raise CommandError(
                "No API credentials for the simulator: set TELSAM_API_USERNAME and "
                "TELSAM_API_PASSWORD (the panel must use the same ones) or pass --username and "
                "--password."
            )
        seed = options["seed"] if options["seed"] is not None else secrets.randbelow(1_000_000)
        traffic = not options["no_traffic"]
        pool = self._caller_pool() if traffic else []
        try:
            simulator = PbxSimulator(
                username,
                password,
                seed=seed,
                traffic=traffic,
                caller_pool=pool,
                mean_gap=options["mean_gap"],
                max_concurrent=options["max_concurrent"],
            )
            server = SimulatorServer(simulator, host=options["host"], port=options["port"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}"
            ) from None

        server.start()
        if options["host"] not in _LOOPBACK:
            self.stderr.write(
                self.style.WARNING(
                    "The control API (/_sim/) has no authentication and is now reachable from "
                    "the network."
                )
            )
        mode = f"traffic on, seed {seed}" if traffic else "no traffic"
        self.stdout.write(f"Telsam PBX simulator ({mode}) for API user {username!r}")
        self.stdout.write(f"  V1 URL: {server.url}")
        self.stdout.write(f"  V2 URL: {server.v2_url}")
        self.stdout.write(f"  control API: {server.url}_sim/state")
        self.stdout.write("Quit with Ctrl-C.")
        self.stdout.flush()
        if threading.current_thread() is threading.main_thread():
            # Process managers (honcho, systemd) stop us with SIGTERM: shut down as for Ctrl-C.
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the simulator.")
        finally:
            server.stop()

    def _caller_pool(self) -> list[str]:
        try:
            pool = caller_pool_from_db()
        except DatabaseError:
            self.stderr.write(
                self.style.WARNING(
                    "Could not read customers' phone numbers (run migrate?): callers will all "
                    "be random numbers."
                )
            )
            return []
        self.stdout.write(f"{len(pool)} customer numbers in the caller pool.")
        return pool
