"""Supervisors read the customer-import audit trail (calls.0002_roles made the groups)."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Supervisors": [("customers", "view_customerimport")]}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        for group in group_model.objects.filter(name=name):
            for app_label, codename in codenames:
                group.permissions.add(
                    permission_model.objects.get(
                        content_type__app_label=app_label, codename=codename
                    )
                )


def revoke(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        for group in group_model.objects.filter(name=name):
            for app_label, codename in codenames:
                group.permissions.remove(
                    *permission_model.objects.filter(
                        content_type__app_label=app_label, codename=codename
                    )
                )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_customer_import"),
        ("calls", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
