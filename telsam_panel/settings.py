"""Telsam Panel settings: one file, every knob from the environment.

Each variable has a default that works for development and is documented in `.env.example` and
`docs/configuration.md`. A malformed value stops start-up with a message naming the variable;
PBX connection settings are checked by `manage.py check` (see `calls/checks.py`) so that an admin
gets a hint instead of a traceback.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path

import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError
from marshmallow.validate import Length, Range

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


SECRET_KEY = _load(env.str, "SECRET_KEY", "dev-insecure-change-me", validate=Length(min=10))
DEBUG = _load(env.bool, "DEBUG", False)
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
    "channels",
    "import_export",
    "calls",
    "customers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "telsam_panel.middleware.TurkishUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
TELSAM_API_USERNAME = env.str("TELSAM_API_USERNAME", "")
TELSAM_API_PASSWORD = env.str("TELSAM_API_PASSWORD", "")
TELSAM_API_TIMEOUT = _load(env.float, "TELSAM_API_TIMEOUT", 5.0, validate=Range(min=0.1, max=120))
TELSAM_CDR_SYNC_INTERVAL = _load(
    env.float, "TELSAM_CDR_SYNC_INTERVAL", 60.0, validate=Range(min=10, max=3600)
)
TELSAM_POLL_INTERVAL = _load(
    env.float, "TELSAM_POLL_INTERVAL", 2.0, validate=Range(min=0.5, max=300)
)

# One poll per interval. A poll that waited in the queue longer than an interval is dropped
# (`expires`) rather than run late, so a stalled worker does not come back to a burst of polls.
CELERY_BEAT_SCHEDULE = {
    "poll-active-calls": {
        "task": "calls.poll_active_calls",
        "schedule": TELSAM_POLL_INTERVAL,
        "options": {"expires": TELSAM_POLL_INTERVAL},
    },
    # Call history: the last 15 minutes every minute (overlapping windows, upserted on the PBX id).
    "sync-recent-cdr": {
        "task": "calls.sync_recent_cdr",
        "schedule": TELSAM_CDR_SYNC_INTERVAL,
        "options": {"expires": TELSAM_CDR_SYNC_INTERVAL},
    },
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Formula cells are neutralised by customers.resources itself: the library's own option only
# strips a leading "=", which both misses "+", "-", "@" and changes the data.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

PHONE_DEFAULT_REGION = _load(env.str, "PHONE_DEFAULT_REGION", "TR").upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        "Environment variable PHONE_DEFAULT_REGION is malformed: "
        f"{PHONE_DEFAULT_REGION!r} is not an ISO 3166 region code such as TR"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _load(env.str, "LOG_LEVEL", "INFO").upper()},
    # A poll every second would otherwise log "received" and "succeeded" twice a second.
    "loggers": {
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}
