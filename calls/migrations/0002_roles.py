"""The two roles of the panel as groups: Agents and Supervisors."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

CUSTOMER_EDITING = [
    ("customers", "view_customer"),
    ("customers", "add_customer"),
    ("customers", "change_customer"),
    ("customers", "view_phonenumber"),
    ("customers", "add_phonenumber"),
    ("customers", "change_phonenumber"),
    ("customers", "delete_phonenumber"),
    ("calls", "view_callrecord"),
]
ROLES = {
    "Agents": CUSTOMER_EDITING,
    "Supervisors": [
        *CUSTOMER_EDITING,
        ("customers", "delete_customer"),
        ("calls", "hangup_call"),
        ("calls", "view_hangupattempt"),
        ("calls", "pop_all_calls"),
        ("calls", "view_stats"),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_initial"),
        ("customers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
