"""Granting permissions to the role groups in a migration, and taking them back when it is
reversed: `migrations.RunPython(*grants(GRANTS))`, GRANTS mapping a group's name to
(app label, codename) pairs. A group that does not exist (yet) is left alone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

Grants = Mapping[str, Sequence[tuple[str, str]]]


def grants(table: Grants) -> tuple[Callable, Callable]:
    """The forward and backward functions of a RunPython that grants `table`."""

    def grant(apps, schema_editor) -> None:
        from django.contrib.auth.management import create_permissions

        # Permissions are normally created after all migrations ran; the groups need them now.
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, verbosity=0, apps=apps)
            app_config.models_module = None
        for group, permissions in _pairs(apps, table):
            group.permissions.add(*permissions)

    def revoke(apps, schema_editor) -> None:
        for group, permissions in _pairs(apps, table):
            group.permissions.remove(*permissions)

    return grant, revoke


def _pairs(apps, table: Grants):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in table.items():
        for group in group_model.objects.filter(name=name):
            permissions = [
                permission_model.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in codenames
            ]
            yield group, permissions
