"""Telsam Panel project package; importing it makes the Celery app available to Django."""

from telsam_panel.celery import app as celery_app

__all__ = ["celery_app"]
