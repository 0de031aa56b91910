"""Supervisors see the wallboard. Its thresholds and display links are managed by administrators
(superusers, who hold every permission), so no role is granted their models, not even to read:
the wallboard itself shows a supervisor what the thresholds do (docs/roles.md)."""

from __future__ import annotations

from django.db import migrations

from telsam_panel.migration_grants import grants

GRANTS = {"Supervisors": [("calls", "view_wallboard")]}


class Migration(migrations.Migration):
    dependencies = [("calls", "0012_wallboard")]

    operations = [migrations.RunPython(*grants(GRANTS))]
