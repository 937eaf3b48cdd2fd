import uuid

import django.utils.timezone
from django.db import migrations, models


def create_or_adopt_table(apps, schema_editor):
    """Create the table, or adopt the one an installation made when this model lived in the project package."""
    model = apps.get_model("core", "SystemSetting")
    existing = schema_editor.connection.introspection.table_names()
    if "ticketremaster_systemsetting" in existing:
        schema_editor.alter_db_table(model, "ticketremaster_systemsetting", model._meta.db_table)
    else:
        schema_editor.create_model(model)


def drop_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("core", "SystemSetting"))


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SystemSetting",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("key", models.CharField(max_length=100, unique=True)),
                        ("value", models.JSONField()),
                        ("description", models.CharField(blank=True, max_length=255)),
                        ("updated_by_id", models.UUIDField(blank=True, null=True)),
                    ],
                    options={"verbose_name": "system setting", "ordering": ["key"]},
                ),
            ],
        ),
        migrations.RunPython(create_or_adopt_table, drop_table),
    ]
