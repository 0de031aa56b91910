"""Calls awaiting their CDR row become tracked calls: kept after their row is found, joined to it,
with a key of their own (the live `Call` object's `key`)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


def give_each_a_key(apps, schema_editor):
    TrackedCall = apps.get_model("calls", "TrackedCall")
    for call in TrackedCall.objects.only("pk").iterator():
        TrackedCall.objects.filter(pk=call.pk).update(key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0006_disposition_choices"),
    ]

    operations = [
        migrations.RenameModel("AwaitedCdr", "TrackedCall"),
        # A unique field cannot get one default for the rows already there: null first.
        migrations.AddField(
            model_name="trackedcall",
            name="key",
            field=models.UUIDField(editable=False, null=True, verbose_name="key"),
        ),
        migrations.RunPython(give_each_a_key, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="trackedcall",
            name="key",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="key"
            ),
        ),
        migrations.AlterModelOptions(
            name="trackedcall",
            options={"verbose_name": "tracked call", "verbose_name_plural": "tracked calls"},
        ),
        migrations.RemoveConstraint(model_name="trackedcall", name="unique_awaited_call"),
        migrations.AddConstraint(
            model_name="trackedcall",
            constraint=models.UniqueConstraint(
                fields=("channel", "started_at"), name="unique_tracked_call"
            ),
        ),
        migrations.AddField(
            model_name="trackedcall",
            name="given_up_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="no CDR row since"),
        ),
        migrations.AddField(
            model_name="trackedcall",
            name="queue",
            field=models.CharField(blank=True, max_length=20, verbose_name="queue"),
        ),
        migrations.AddField(
            model_name="trackedcall",
            name="record",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="tracked_call",
                to="calls.callrecord",
                verbose_name="call record",
            ),
        ),
        migrations.AddIndex(
            model_name="trackedcall",
            index=models.Index(
                condition=models.Q(("given_up_at__isnull", True), ("record__isnull", True)),
                fields=["started_at"],
                name="trackedcall_awaiting",
            ),
        ),
    ]
