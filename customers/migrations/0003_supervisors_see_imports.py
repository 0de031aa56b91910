"""Supervisors read the customer-import audit trail (calls.0002_roles made the groups)."""

from __future__ import annotations

from django.db import migrations

from telsam_panel.migration_grants import grants

GRANTS = {"Supervisors": [("customers", "view_customerimport")]}


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_customer_import"),
        ("calls", "0002_roles"),
    ]

    operations = [migrations.RunPython(*grants(GRANTS))]
