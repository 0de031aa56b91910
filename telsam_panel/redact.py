"""Keep secrets out of text that leaves the process: log records, error messages, pages.

The PBX API takes its password in the query string, so any URL of ours is a secret carrier and
libraries (requests, urllib3) happily print URLs in exceptions and debug logs. One rule, applied
where text leaves:

- `redact(text)` is the rule: every configured secret (raw, URL-encoded, HTML- and JSON-escaped),
  any `password=` query value and the password of any `scheme://user:password@` URL become `***`.
  Code that builds user-visible error text (the PBX client, the poll's PBX status, the CDR sync,
  hang-up, health, `doctor`, the simulator) runs it.
- `install_log_redaction()` wraps the log-record factory so that *every* record, from any library at
  any level, is rendered and redacted when it is created, before any handler (ours, pytest's, a
  third party's) can see it.
- `RedactingExceptionReporter` (settings.DEFAULT_EXCEPTION_REPORTER) does the same for Django's
  error reports: the DEBUG error page and the mails to ADMINS, whose frame variables would
  otherwise show a PBX URL with its password.
"""

from __future__ import annotations

import html
import json
import logging
import re
import traceback
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus, urlsplit

from django.conf import settings
from django.views.debug import ExceptionReporter

MASK = "***"
_PASSWORD_PARAM = re.compile(r"(?i)(password=)[^&\s'\"<>]+")
# scheme://user:password@host: the password, up to the last "@" before the host.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@'\"<>]*:)[^/\s'\"<>]*@")
# A wallboard display link's token in a path (calls.wallboard.display_links.DISPLAY_PATH, and its
# websocket's): whoever reads it could open the board, so the web server's request lines must not
# keep it.
_DISPLAY_TOKEN = re.compile(r"(/display/)[A-Za-z0-9_-]{16,}")
_MIN_SECRET_LENGTH = 4  # masking "a" everywhere would garble text without protecting anything


def configured_secrets() -> tuple[str, ...]:
    """Secrets from settings that must never be shown."""
    values = [settings.TELSAM_API_PASSWORD, settings.SECRET_KEY]
    values += [database.get("PASSWORD") for database in settings.DATABASES.values()]
    # URLs with a password in them: the PBX's is refused at start-up, but settings can change
    # since, and its host names appear without the scheme the URL pattern below needs.
    for url in (getattr(settings, "REDIS_URL", ""), settings.TELSAM_API_URL):
        values.append(_url_password(url))
    return tuple(v for v in values if v)


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:  # malformed: the settings' checks say so
        return None


@lru_cache(maxsize=8)
def _pattern_for(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    variants: set[str] = set()
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH:
            variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
            # As pages (HTML) and websocket messages (JSON) would spell it.
            variants.update({html.escape(secret), json.dumps(secret)[1:-1]})
    if not variants:
        return None
    # Longest first so that an encoded form is not half-replaced by a shorter raw one.
    alternatives = sorted(variants, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in alternatives))


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Return `text` with secrets, `password=` query values and display links' tokens replaced
    by `***`."""
    secrets = tuple(secrets) if secrets is not None else configured_secrets()
    pattern = _pattern_for(secrets)
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    text = _DISPLAY_TOKEN.sub(rf"\g<1>{MASK}", text)
    return _PASSWORD_PARAM.sub(rf"\g<1>{MASK}", text)


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the record altogether
        message = f"{record.msg!r} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        formatted = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(formatted)
        # Formatters print exc_text; the live exception objects may carry secrets in their args.
        record.exc_info = None
    return record


_installed = False


def install_log_redaction() -> None:
    """Make every future log record redacted at creation (idempotent)."""
    global _installed
    if _installed:
        return
    previous_factory = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return _redact_record(previous_factory(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error report (DEBUG page, mail to ADMINS) with every secret masked.

    Django hides settings whose names look secret, but not the local variables of each frame, nor
    the text of exceptions: a PBX request's URL carries the password in both.
    """

    def get_traceback_html(self) -> str:
        return redact(super().get_traceback_html())

    def get_traceback_text(self) -> str:
        return redact(super().get_traceback_text())
