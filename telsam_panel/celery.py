"""The Celery application: configured from Django settings (`CELERY_*`), tasks found in apps."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telsam_panel.settings")

app = Celery("telsam_panel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
