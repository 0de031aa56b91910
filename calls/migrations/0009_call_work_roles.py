"""Agents and supervisors write call work; supervisors also change anyone's."""

from __future__ import annotations

from django.db import migrations

from telsam_panel.migration_grants import grants

GRANTS = {
    "Agents": [("calls", "add_callwork"), ("calls", "view_callwork")],
    "Supervisors": [
        ("calls", "add_callwork"),
        ("calls", "view_callwork"),
        ("calls", "change_any_callwork"),
    ],
}


class Migration(migrations.Migration):
    dependencies = [("calls", "0008_call_work")]

    operations = [migrations.RunPython(*grants(GRANTS))]
