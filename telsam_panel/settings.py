"""Telsam Panel settings: one file, every knob from the environment.

Each variable has a default that works for development and is documented in `.env.example` and
`docs/configuration.md`. A malformed value stops start-up with a message naming the variable;
PBX connection settings are checked by `manage.py check` (see `calls/checks.py`) so that an admin
gets a hint instead of a traceback.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from pathlib import Path

import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError
from marshmallow.validate import Length, OneOf, Range

from telsam_panel import pbx_url

BASE_DIR = Path(__file__).resolve().parent.parent

env = Env()
env.read_env(BASE_DIR / ".env", recurse=False)


def _load(reader, name: str, *args, **kwargs):
    """Read one variable, turning environs' error into Django's start-up error."""
    try:
        return reader(name, *args, **kwargs)
    except EnvError as exc:
        details = getattr(exc, "error_messages", None) or [str(exc)]
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: {'; '.join(map(str, details))}"
        ) from None


# The built-in key and the one .env.example ships with are public: fine while developing and for
# the demo (DEBUG on), never to sign the sessions of a real installation.
_BUILT_IN_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 (public, refused below)
_EXAMPLE_SECRET_KEY = "change-me-to-a-long-random-string"  # noqa: S105 (public, refused below)
SECRET_KEY = _load(env.str, "SECRET_KEY", _BUILT_IN_SECRET_KEY, validate=Length(min=10))
DEBUG = _load(env.bool, "DEBUG", False)
_PUBLIC_SECRET_KEYS = {
    _BUILT_IN_SECRET_KEY: "SECRET_KEY is not set, and the built-in development key is public",
    _EXAMPLE_SECRET_KEY: "SECRET_KEY is the example value from .env.example, which anyone can read",
}
if SECRET_KEY in _PUBLIC_SECRET_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        f"{_PUBLIC_SECRET_KEYS[SECRET_KEY]}: with DEBUG off, set SECRET_KEY to a long random "
        "value, e.g. the output of python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = _load(env.list, "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = _load(env.list, "CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "import_export",
    "calls",
    "customers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before anything that checks the Host header: probes ask by localhost or IP address.
    "telsam_panel.middleware.HealthProbeMiddleware",
    "telsam_panel.middleware.TurkishUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "telsam_panel.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a login refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "telsam_panel.urls"
ASGI_APPLICATION = "telsam_panel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": _load(env.dj_db_url, "DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write to the same file: WAL lets readers and a writer
    # work at once, IMMEDIATE transactions wait for the lock instead of failing with "database is
    # locked", and NORMAL sync is safe with WAL while sparing an fsync per transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # libpq waits for an unreachable server as long as TCP does (minutes): a partition would hang
    # every request and the open panels' session checks meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "calls:panel"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (django-axes, state in the database we already have): after LOGIN_FAILURE_LIMIT
# wrong passwords for one username from one address, that pair is locked for
# LOGIN_LOCKOUT_MINUTES, even with the right password; the panel's form and the admin's alike.
# Locking on the pair, not the address alone, keeps a call centre behind one NAT address working
# while someone mistypes, and keeps an outsider from locking everybody out.
AUTHENTICATION_BACKENDS = [
    "telsam_panel.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _load(env.int, "LOGIN_FAILURE_LIMIT", 5, validate=Range(min=1, max=100))
AXES_COOLOFF_TIME = timedelta(
    minutes=_load(env.float, "LOGIN_LOCKOUT_MINUTES", 15.0, validate=Range(min=1, max=7 * 24 * 60))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a typo now and then over a week never adds up to a lockout
AXES_LOCKOUT_CALLABLE = "telsam_panel.auth.lockout_response"
AXES_VERBOSE = False  # lockouts are still logged (WARNING), without a banner at every start
# Usernames and addresses stay readable in the log and the admin (who is being attacked, from
# where); the password is always masked, and so is the form's CSRF token.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]

# Sessions: an agent logs in once for a working day. SESSION_COOKIE_AGE counts from the login;
# the panel's websocket closes within seconds of it running out (calls/live/session_watch.py).
SESSION_COOKIE_AGE = _load(
    env.int, "SESSION_COOKIE_AGE", 12 * 3600, validate=Range(min=60, max=30 * 24 * 3600)
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = _load(env.bool, "SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# HTTPS. Off by default so that plain-HTTP development works; a deployment served over TLS sets
# HTTPS=true, which turns on the redirect, secure cookies and HSTS (each can be set on its own).
HTTPS = _load(env.bool, "HTTPS", False)
_proxy_header = _load(env.str, "SECURE_PROXY_SSL_HEADER", "")
if _proxy_header and not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_header):
    raise ImproperlyConfigured(
        "Environment variable SECURE_PROXY_SSL_HEADER is malformed: expected a header name such "
        "as X-Forwarded-Proto"
    )
# Behind a TLS proxy Django sees plain HTTP; the proxy's header (which it must always set, never
# pass through from the client) tells that the browser used HTTPS.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
)
SECURE_SSL_REDIRECT = _load(env.bool, "SECURE_SSL_REDIRECT", HTTPS)
# Load balancers' and monitoring's health checks may speak plain HTTP to the process.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/data)?$"]
SESSION_COOKIE_SECURE = _load(env.bool, "SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = _load(env.bool, "CSRF_COOKIE_SECURE", HTTPS)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = _load(
    env.int, "SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0, validate=Range(min=0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _load(env.bool, "SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = _load(env.bool, "SECURE_HSTS_PRELOAD", False)
# The panel's scripts read the CSRF token from the page, never from a cookie: no script needs any.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Every page of ours and of the admin runs only scripts and styles from its own origin (no inline
# code), so a name that slipped through escaping still could not run. Empty turns it off.
CONTENT_SECURITY_POLICY = _load(
    env.str,
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
)
# Error pages and reports (DEBUG pages, mails to ADMINS) go through the log redaction too.
DEFAULT_EXCEPTION_REPORTER = "telsam_panel.redact.RedactingExceptionReporter"

# Turkish by default, English available.
LANGUAGE_CODE = "tr"
LANGUAGES = [("tr", "Türkçe"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = _load(env.str, "TIME_ZONE", "Europe/Istanbul")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(
        f"Environment variable TIME_ZONE is malformed: unknown zone {TIME_ZONE!r}"
    )

STATIC_URL = "static/"
STATIC_ROOT = _load(env.path, "STATIC_ROOT", BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # No collectstatic needed while developing.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Redis carries the channel layer, the Celery broker and the live snapshot.
REDIS_URL = _load(env.str, "REDIS_URL", "redis://127.0.0.1:6379/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        "Environment variable REDIS_URL is malformed: expected redis://host:port/db"
    )

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 defaults socket_timeout to 5 s, which cuts the layer's blocking reads; pin it.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            # Wall screens stay connected for days; the default 24 h would drop them silently.
            "group_expiry": 30 * 24 * 3600,
        },
    },
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery stays on UTC: short `expires` values misfire when it runs in a non-UTC zone.
CELERY_ENABLE_UTC = True
CELERY_TIMEZONE = "UTC"

# The PBX. Missing or malformed values are reported by `manage.py check` (calls.E001…).
TELSAM_API_URL = env.str("TELSAM_API_URL", "")
if pbx_url.has_credentials(TELSAM_API_URL):
    raise ImproperlyConfigured(f"Environment variable TELSAM_API_URL {pbx_url.REFUSAL}")
TELSAM_API_USERNAME = env.str("TELSAM_API_USERNAME", "")
TELSAM_API_PASSWORD = env.str("TELSAM_API_PASSWORD", "")
TELSAM_API_TIMEOUT = _load(env.float, "TELSAM_API_TIMEOUT", 5.0, validate=Range(min=0.1, max=120))
TELSAM_CDR_SYNC_INTERVAL = _load(
    env.float, "TELSAM_CDR_SYNC_INTERVAL", 60.0, validate=Range(min=10, max=3600)
)
TELSAM_POLL_INTERVAL = _load(
    env.float, "TELSAM_POLL_INTERVAL", 2.0, validate=Range(min=0.5, max=300)
)
# How long after a call ended its agent may change the note and wrap-up code they wrote on it
# (supervisors: always).
TELSAM_NOTE_EDIT_MINUTES = _load(
    env.float, "TELSAM_NOTE_EDIT_MINUTES", 60.0, validate=Range(min=0, max=43200)
)
# How long the pop's wrap-up card of an ended call stays before it closes itself (0: until the
# agent saves or dismisses it).
TELSAM_WRAPUP_CARD_SECONDS = _load(
    env.float, "TELSAM_WRAPUP_CARD_SECONDS", 120.0, validate=Range(min=0, max=86400)
)

# How often an open panel asks whether a follow-up of its user has come due (the reminder).
TELSAM_FOLLOW_UP_CHECK_SECONDS = _load(
    env.float, "TELSAM_FOLLOW_UP_CHECK_SECONDS", 30.0, validate=Range(min=1, max=3600)
)

# The wallboard's service level: a queue call answered within this many seconds counts as
# answered in time. The default of each queue's own setting (in the admin), read when one is added.
TELSAM_SERVICE_LEVEL_SECONDS = _load(
    env.int, "TELSAM_SERVICE_LEVEL_SECONDS", 20, validate=Range(min=1, max=3600)
)

# One poll per interval. A poll that waited in the queue longer than an interval is dropped
# (`expires`) rather than run late, so a stalled worker does not come back to a burst of polls.
CELERY_BEAT_SCHEDULE = {
    "poll-active-calls": {
        "task": "calls.poll_active_calls",
        "schedule": TELSAM_POLL_INTERVAL,
        "options": {"expires": TELSAM_POLL_INTERVAL},
    },
    # Call history: on from the last good window, and back to the start of every call that
    # ended (overlapping windows, upserted on the PBX id) ...
    "sync-recent-cdr": {
        "task": "calls.sync_recent_cdr",
        "schedule": TELSAM_CDR_SYNC_INTERVAL,
        "options": {"expires": TELSAM_CDR_SYNC_INTERVAL},
    },
    # ... and the last 24 hours again every hour, for rows the PBX wrote late
    # (calls.history.cdr_sync, which reads its interval from here).
    "sweep-cdr": {"task": "calls.sweep_cdr", "schedule": 3600.0, "options": {"expires": 3600.0}},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Formula cells are neutralised by customers.resources itself: the library's own option only
# strips a leading "=", which both misses "+", "-", "@" and changes the data.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# The largest customer file the admin's import page takes (the proxy must allow a little more
# for the form around it). Django spools uploads over 2.5 MB to a temporary file, not memory.
CUSTOMER_IMPORT_MAX_MB = _load(
    env.int, "CUSTOMER_IMPORT_MAX_MB", 20, validate=Range(min=1, max=200)
)
# The most rows the import page takes from one file: rows, not bytes, decide how long the request
# runs (an .xlsx holds about 35,000 rows a megabyte). The default imports in under 20 s on a slow
# day of a 2-core machine, well within a proxy's 60 s (docs/customer-import.md).
CUSTOMER_IMPORT_MAX_ROWS = _load(
    env.int, "CUSTOMER_IMPORT_MAX_ROWS", 30_000, validate=Range(min=1, max=1_000_000)
)

PHONE_DEFAULT_REGION = _load(env.str, "PHONE_DEFAULT_REGION", "TR").upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        "Environment variable PHONE_DEFAULT_REGION is malformed: "
        f"{PHONE_DEFAULT_REGION!r} is not an ISO 3166 region code such as TR"
    )

# Every process logs to stdout, one record per line: `plain` for people, `json` for a log
# collector (one object per line). Secrets are masked in every record at creation
# (telsam_panel/redact.py), before any formatter sees it.
LOG_FORMAT = _load(env.str, "LOG_FORMAT", "plain", validate=OneOf(["plain", "json"]))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": _load(env.str, "LOG_LEVEL", "INFO").upper()},
    # A poll every second would otherwise log "received" and "succeeded" twice a second.
    "loggers": {
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},  # "Sending due task" every interval
        # django-axes logs four lines per login at INFO; lockouts come at WARNING.
        "axes": {"level": "WARNING"},
    },
}
