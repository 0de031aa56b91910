"""`manage.py doctor`: what `/healthz` and `/healthz/data` say, plus the configuration problems,
in words.

For the person installing or on call: every line says what is wrong and what to do. Exits 1 when
anything is not right, a warning included (a failed check, a configuration error or warning), so
that scripts and deployment pipelines can rely on it: a warning left alone is how an installation
ends up with a public key or no HTTPS.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand, CommandParser

from calls.pbx import PbxError, client_from_settings
from telsam_panel.health import DATA_CHECKS, WEB_CHECKS, Check, data_health, web_health
from telsam_panel.redact import redact

OK, WARN, FAIL = "OK", "WARN", "FAIL"


class Command(BaseCommand):
    help = (
        "Check the database, Redis, the poller, the PBX, the call-history sync, the Celery "
        "workers and the settings."
    )
    requires_system_checks = []  # it runs them itself and reports them in its own words

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--offline",
            action="store_true",
            help="do not contact the PBX or the Celery workers (configuration and storage only)",
        )
        parser.add_argument(
            "--only",
            choices=WEB_CHECKS + DATA_CHECKS,
            help="run this one check and nothing else (for a container's healthcheck: "
            "`--only poller` for beat)",
        )

    def handle(self, *args, **options) -> None:
        problems = 0
        for name, check in _health(options["only"]).items():
            problems += self._line(name, OK if check.ok else FAIL, check.detail)
        if options["only"]:
            raise SystemExit(1 if problems else 0)
        if not options["offline"]:
            problems += self._line("pbx_now", *_pbx())
            problems += self._line("workers", *_workers())
        for message in _configuration():
            problems += self._line("settings", *message)
        self.stdout.write("")
        if problems:
            self.stdout.write(self.style.ERROR(f"{problems} problem(s) found."))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("Everything looks fine."))

    def _line(self, name: str, status: str, detail: str) -> int:
        style = {OK: self.style.SUCCESS, WARN: self.style.WARNING, FAIL: self.style.ERROR}[status]
        self.stdout.write(f"{name:<9} {style(f'{status:<4}')} {detail}")
        return status != OK


def _health(only: str | None) -> dict[str, Check]:
    """The checks of `/healthz` and `/healthz/data`, or just the one named."""
    if only is None:
        return {**web_health().checks, **data_health().checks}
    report = web_health() if only in WEB_CHECKS else data_health()
    return {only: report.checks[only]}


def _pbx() -> tuple[str, str]:
    """One live `activecalls` request, as the poller makes it."""
    if not settings.TELSAM_API_URL:
        return FAIL, "TELSAM_API_URL is not set"
    started = time.perf_counter()
    try:
        calls = client_from_settings().active_calls()
    except PbxError as exc:
        return FAIL, f"{type(exc).__name__}: {redact(str(exc))}"
    elapsed_ms = (time.perf_counter() - started) * 1000
    return OK, f"answered activecalls in {elapsed_ms:.0f} ms ({len(calls)} calls in progress)"


def _workers() -> tuple[str, str]:
    from telsam_panel.celery import app

    try:
        replies = app.control.ping(timeout=2.0)
    except Exception as exc:  # the broker itself is down: already reported as the Redis line
        return FAIL, f"cannot ask the workers: {type(exc).__name__}"
    if not replies:
        return FAIL, "no Celery worker answered: start one (celery -A telsam_panel worker)"
    names = ", ".join(sorted(name for reply in replies for name in reply))
    return OK, f"{len(replies)} Celery worker(s) answered: {names}"


def _configuration() -> list[tuple[str, str]]:
    """Django's system checks, with the deployment checks when DEBUG is off."""
    found = checks.run_checks(include_deployment_checks=not settings.DEBUG)
    lines = []
    for message in found:
        if message.is_silenced():
            continue
        status = FAIL if message.level >= checks.ERROR else WARN
        text = f"{message.id}: {message.msg}"
        if message.hint:
            text += f" — {message.hint}"
        lines.append((status, redact(text)))
    if not lines:
        scope = "" if settings.DEBUG else " (deployment checks included)"
        lines.append((OK, f"no configuration problems{scope}"))
    return lines
