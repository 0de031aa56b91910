"""Agents and supervisors set follow-ups, see them and mark them done."""

from __future__ import annotations

from django.db import migrations

from telsam_panel.migration_grants import grants

FOLLOW_UP = [("calls", "add_followup"), ("calls", "view_followup"), ("calls", "change_followup")]
GRANTS = {"Agents": FOLLOW_UP, "Supervisors": FOLLOW_UP}


class Migration(migrations.Migration):
    dependencies = [("calls", "0010_follow_ups")]

    operations = [migrations.RunPython(*grants(GRANTS))]
